"""Customer service: the three-tier answer policy (`policy`), the relevance check before answering
(`relevance`), defences against hostile input (`guard`), citation markers (`citations`), what was
asked and the hand-over tickets (`log`) and the end-to-end evaluation (`evaluate`)."""
