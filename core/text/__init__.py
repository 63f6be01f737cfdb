"""Language and script helpers every part shares: is it Chinese, Simplified or Traditional, and
converting between them."""
