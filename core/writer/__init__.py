"""The content writer: templates, prompts, drafts, checks, history and batch (`drafts`), the text
clean-up and fact checks of drafts (`draft_text`), and files to download (`exports`)."""
