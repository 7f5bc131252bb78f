"""The report's sections, each built from what the results folder holds: :mod:`.headline`
(facts, headline table, story, published figures), :mod:`.cost` (money and availability),
:mod:`.comparison`, :mod:`.poverty`, :mod:`.calibration`, :mod:`.figures` (the plots each
section places, with their captions), :mod:`.files` (files and provenance) and
:mod:`.parameters` (every parameter of the scenario, with its note)."""
