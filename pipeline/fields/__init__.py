"""Read every field of an aligned page by its kind: text through constrained OCR, marks by ink."""
