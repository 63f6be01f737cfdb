"""LoRA fine-tuning of the company's model, in small modules that each do one job.

- `data`: training examples from the FAQ, brand voices and extra chat files; train/validation split.
- `train`: the LoRA training loop (peft), checkpoints, training log.
- `evaluate`: validation loss, ROUGE-L and fact hits on held-out FAQ answers, base vs adapter.
- `card`: the model card (JSON and Markdown) written next to each adapter.
- `adapters`: the adapters on this machine and which one is active.
- `jobs`: one fine-tune at a time, in a background thread, with progress and stop (for the page).
"""
