"""Generation, split by job:

- `watch`: one stream's reasoning-free text and its collapse detector, stopped at the onset;
- `attempts`: what one attempt is, how a watched stream becomes one (kept text, checks), the results;
- `ladder`: the one retry policy: the next attempt's settings, or stop;
- `schedule`: sequential or batched rounds of attempts over that policy.

Prose sections and structured stages (JSON answers such as the news pick) go through the same path."""

from .attempts import Attempt, SectionResult, Task
from .schedule import GenerationRun, generate, generate_sections

__all__ = ["Attempt", "GenerationRun", "SectionResult", "Task", "generate", "generate_sections"]
