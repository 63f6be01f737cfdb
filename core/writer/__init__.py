"""The content writer: templates (`templates`), the request (`request`), its prompt (`prompts`), the
drafts (`drafts`) and their checks (`checks`, text clean-up in `draft_text`), knowledge-base facts
(`facts`), history and brand voices (`store`), files to download (`documents`) and batches (`batch`)."""
