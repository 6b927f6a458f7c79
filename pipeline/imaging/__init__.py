"""Image work on a page: grey conversion, skew and orientation estimates, form dropout."""
