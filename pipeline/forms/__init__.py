"""Form templates: the model and loader, identification of a page's form, alignment to the blank."""
