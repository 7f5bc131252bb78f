"""The command line: it parses arguments and prints, and leaves the work to the library.

:mod:`.arguments` parses, :mod:`.commands` runs each command (the experiments do the work),
:mod:`.console` prints tables and progress, :mod:`.shared` holds what the commands do alike
(loading, output checks, batches, manifests) and :mod:`.app` turns errors into exit codes.
"""

from .app import main, program

__all__ = ["main", "program"]
