"""shinsei: scanned Japanese municipal applications to validated records.

Each stage of the pipeline is a module (or small package) here; `pipeline.run` calls them in order.
"""

__version__ = "0.1.0"
