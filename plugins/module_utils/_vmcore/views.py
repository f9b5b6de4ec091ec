# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dump inside a container, read as if it were a file of its own (seek, read, tell).

- StreamView: a dump compressed as a whole file (gzip, bzip2, xz), decompressed as it is read forward;
  a backward seek starts again from the top.
- FlatView: the dump a makedumpfile flattened stream rebuilds (what ``makedumpfile -R`` would write), read
  in place through its segments; bytes no segment wrote read as zeros and a later segment wins.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import bisect
import bz2
import zlib
from array import array

from typing import Any, List, Optional, Tuple

try:
    import lzma
    DECODE_ERRORS: Tuple[Any, ...] = (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError)
except ImportError:  # some minimal Pythons are built without liblzma
    lzma = None  # type: ignore[assignment]
    DECODE_ERRORS = (zlib.error, OSError, EOFError, ValueError)

READ_CHUNK = 1024 * 1024


def decoder_for(compression: str) -> Any:
    """A fresh decompressor for gzip/bzip2/xz data, or None when this Python cannot read it."""
    if compression == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if compression == "bzip2":
        return bz2.BZ2Decompressor()
    if compression == "xz" and lzma is not None:
        return lzma.LZMADecompressor()
    return None


class Inflater:
    """The decompressed bytes of a whole-file compressed dump, in pieces of bounded size (a bomb stays small)."""

    def __init__(self, handle: Any, compression: str) -> None:
        self.handle, self.compression = handle, compression
        self.decoder = decoder_for(compression)
        if self.decoder is None:
            raise ValueError("no decompressor for %s in this Python" % compression)
        self.consumed = 0  # compressed bytes read
        handle.seek(0)

    @property
    def ended(self) -> bool:
        """The compressed stream reached its end marker."""
        return bool(self.decoder.eof)

    def _input(self) -> Optional[bytes]:
        """The next compressed input, b'' when the decoder has output left, None when the file is used up."""
        if self.compression == "gzip":
            data = self.decoder.unconsumed_tail
            if not data:
                data = self.handle.read(READ_CHUNK)
                self.consumed += len(data)
            return data or None
        if not self.decoder.needs_input:
            return b""
        data = self.handle.read(READ_CHUNK)
        self.consumed += len(data)
        return data or None

    def pull(self, limit: int) -> bytes:
        """Up to limit decompressed bytes; b'' at the end of the stream or of the file."""
        while not self.decoder.eof:
            data = self._input()
            if data is None:
                return b""
            piece = self.decoder.decompress(data, limit)
            if piece:
                return piece
        return b""


class StreamView:
    """Seek and read a whole-file compressed dump by offset in the decompressed data."""

    def __init__(self, handle: Any, compression: str) -> None:
        self.handle, self.compression = handle, compression
        self.target = 0
        self._restart()

    def _restart(self) -> None:
        self.inflater = Inflater(self.handle, self.compression)
        self.position = 0  # decompressed offset of pending[0]
        self.pending = b""

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or offset < 0:
            raise ValueError("StreamView seeks to absolute offsets only")
        self.target = offset
        return offset

    def tell(self) -> int:
        return self.target

    def read(self, length: int) -> bytes:
        if self.target < self.position:
            self._restart()
        while self.position + len(self.pending) <= self.target:
            self.position += len(self.pending)
            self.pending = self.inflater.pull(READ_CHUNK)
            if not self.pending:
                return b""
        start = self.target - self.position
        if start + length <= len(self.pending):  # small reads slice the piece held, never copy the rest of it
            self.target += length
            return self.pending[start:start + length]
        pieces, have = [self.pending[start:]], len(self.pending) - start
        while have < length:
            piece = self.inflater.pull(max(READ_CHUNK, length - have))
            if not piece:
                break
            pieces.append(piece)
            have += len(piece)
        data = b"".join(pieces)
        self.position, self.pending = self.target, data
        data = data[:length]
        self.target += len(data)
        return data


class FlatView:
    """Seek and read the dump a flattened stream rebuilds; segments are (offset in the dump, size, position
    of the data in the stream file), in stream order."""

    def __init__(self, handle: Any, starts: array, sizes: array, positions: array) -> None:
        self.handle = handle
        order = sorted((index for index in range(len(starts)) if sizes[index] > 0), key=starts.__getitem__)
        self.starts = array("q", (starts[index] for index in order))
        self.ends = array("q", (starts[index] + sizes[index] for index in order))
        self.positions = array("q", (positions[index] for index in order))
        self.written = array("q", order)  # stream order: the later of two overlapping segments wins
        self.reach = array("q")  # largest end among this segment and those before it (in offset order)
        self.overlaps = 0  # segments that start before an earlier one ends
        furthest = 0
        for start, end in zip(self.starts, self.ends):
            self.overlaps += start < furthest
            furthest = max(furthest, end)
            self.reach.append(furthest)
        self.size = furthest
        self.target = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or offset < 0:
            raise ValueError("FlatView seeks to absolute offsets only")
        self.target = offset
        return offset

    def tell(self) -> int:
        return self.target

    def _covering(self, begin: int, end: int) -> List[int]:
        """Indexes of the segments that hold bytes of begin..end-1 (a run of overlapping ones at most)."""
        found = []
        index = bisect.bisect_left(self.starts, end) - 1
        while index >= 0 and (self.starts[index] >= begin or self.reach[index] > begin):
            if self.ends[index] > begin:
                found.append(index)
            index -= 1
        return found

    def read(self, length: int) -> bytes:
        begin, end = self.target, min(self.target + length, self.size)
        if end <= begin:
            return b""
        data = bytearray(end - begin)
        for index in sorted(self._covering(begin, end), key=self.written.__getitem__):
            low, high = max(begin, self.starts[index]), min(end, self.ends[index])
            self.handle.seek(self.positions[index] + low - self.starts[index])
            chunk = self.handle.read(high - low)
            data[low - begin:low - begin + len(chunk)] = chunk
        self.target = end
        return bytes(data)
