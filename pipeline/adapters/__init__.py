"""Adapters: where accepted records leave shinsei for another system. csv_file.py is the CSV
file both `shinsei export` and the nightly batch write."""
