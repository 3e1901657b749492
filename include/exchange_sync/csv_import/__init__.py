"""CSV fallback (PRODUCT.md F12): the exchanges' own export files into the same tables the API
fills, deduplicated against the API's rows both ways (matching.py), every line that does not
become a row kept with its reason (rejects.py). `run.import_csv` is the entry point; one module
per export format under formats/."""
