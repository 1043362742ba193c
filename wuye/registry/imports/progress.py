"""How far an import has got, told to whoever asks (the job row, a terminal bar) every
thousand rows: `progress(step, done, total)`.

Reading counts the sheet's rows (header and blank rows included, as the file has them);
writing counts the records written (buildings, units, owners, ownerships)."""

from collections.abc import Callable, Iterator

Progress = Callable[[str, int, int], None]

READING = "reading"
WRITING = "writing"
EVERY = 1000


def counted(rows: Iterator, total: int, progress: Progress) -> Iterator:
    """`rows` unchanged, telling `progress` every EVERY rows and once at the end (when the
    total was an estimate, the end corrects it)."""
    done = 0
    for item in rows:
        yield item
        done += 1
        if done % EVERY == 0:
            progress(READING, done, max(total, done))
    progress(READING, done, done)


class Written:
    """Counts records as they are written and tells `progress` every EVERY of them."""

    def __init__(self, total: int, progress: Progress | None):
        self.total, self.progress = total, progress
        self.done = self.told = 0

    def __call__(self, count: int) -> None:
        if count <= 0:
            return
        self.done += count
        if self.progress and (self.done - self.told >= EVERY or self.done >= self.total):
            self.told = self.done
            self.progress(WRITING, self.done, max(self.total, self.done))
