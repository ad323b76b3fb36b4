"""Historian data: the HDF5 format, units, reading, writing, CSV import and inspection.

The main entry points are re-exported here::

    from energyopt.data import HistorianReader, write_historian

Heavy dependencies (h5py, pint) are imported when first used, so importing
this package stays cheap.
"""

from __future__ import annotations

from energyopt.data.csv_import import CsvImportResult, import_csv
from energyopt.data.format import FORMAT_NAME, FORMAT_VERSION, Quality, TagInfo
from energyopt.data.inspect import InspectReport, inspect_file
from energyopt.data.reader import HistorianReader
from energyopt.data.series import RegularSeries, TimeSeries
from energyopt.data.writer import HistorianWriter, write_historian

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "CsvImportResult",
    "HistorianReader",
    "HistorianWriter",
    "InspectReport",
    "Quality",
    "RegularSeries",
    "TagInfo",
    "TimeSeries",
    "import_csv",
    "inspect_file",
    "write_historian",
]
