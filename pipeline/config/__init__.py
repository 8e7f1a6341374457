"""The brief: `schema` declares it, `load` reads and validates a file with file:line:col errors."""

from .load import load_brief
from .schema import (
    DEFAULT_MODEL,
    SETTING_KEYS,
    Brief,
    DataSource,
    FeedSource,
    GenerationSettings,
    LoadedBrief,
    MemorySettings,
    SamplingSettings,
    Section,
    SectionOverrides,
    slugify,
)

__all__ = ["DEFAULT_MODEL", "SETTING_KEYS", "Brief", "DataSource", "FeedSource", "GenerationSettings", "LoadedBrief",
           "MemorySettings", "SamplingSettings", "Section", "SectionOverrides", "load_brief", "slugify"]
