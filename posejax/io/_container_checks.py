"""What a video container declares, held against what it holds.

The checks behind :class:`posejax.io.video.VideoReader`. One pass over a file's packets, without
decoding (:func:`scan_packets`), gives each frame's presentation time and what the container
says it should hold; :func:`missing_data` compares the two per container (MP4/MOV index, AVI
header, Matroska/WebM duration and lost clusters, packets the demuxer marks cut short). Kept
apart from the reader so that the rules per container can be read in one place.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np


class Scan:
    """What one pass over a file's packets (no decoding) tells: see :func:`scan_packets`."""

    def __init__(self, container, stream):
        self.formats = frozenset(container.format.name.split(","))
        self.time_base = stream.time_base
        self.declared_frames = int(stream.frames or 0)
        tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
        self.track_duration = tag_seconds(tag)
        self.file_duration = container.duration / 1e6 if container.duration else None
        self.pts: list[int | None] = []   # frames' packets in decode order
        self.stored = 0                   # packets with data, discarded ones included
        self.video_end = None             # end of the last video packet (s, and time-base ticks)
        self.video_end_ticks = None
        self.file_end = None              # end of the last packet of any stream (s)
        self.corrupt_at = None            # frame of the first packet the demuxer marks corrupt
        self.skips: list[tuple[int, int]] = []  # (frame, bytes skipped just before it)


def tag_seconds(tag) -> float | None:
    """``"00:00:05.000000000"`` (Matroska's per-track DURATION tag) in seconds, else None."""
    try:
        hours, minutes, seconds = str(tag).split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except (ValueError, AttributeError):
        return None


def scan_packets(container, stream) -> Scan:
    """Read every packet of ``container`` once, without decoding, and note what it holds.

    All streams are read (demuxing one stream reads the others' bytes anyway), so that a
    file's declared duration can be held against its last packet of any kind.
    """
    scan = Scan(container, stream)
    matroska = "matroska" in scan.formats
    previous_end = None
    skipped = 0
    for packet in container.demux():
        if packet.size == 0:
            continue  # the demuxer's flush packet, or an empty (dropped) AVI frame
        if matroska and packet.pos is not None and packet.pos >= 0:
            # Block headers take a few bytes; a lost cluster leaves a hole of kilobytes.
            if previous_end is not None and packet.pos > previous_end:
                skipped += packet.pos - previous_end
            previous_end = packet.pos + packet.size
        start = packet.pts if packet.pts is not None else packet.dts
        if start is not None and packet.time_base is not None:
            ticks = start + max(packet.duration or 0, 0)
            end = float(ticks * packet.time_base)
            scan.file_end = end if scan.file_end is None else max(scan.file_end, end)
        if packet.stream.index != stream.index:
            continue
        scan.stored += 1
        if packet.is_corrupt and scan.corrupt_at is None:
            scan.corrupt_at = len(scan.pts)
        if packet.is_discard:
            continue  # before an edit list's start: decoded, never shown
        if skipped > 1024:
            scan.skips.append((len(scan.pts), skipped))
        skipped = 0
        scan.pts.append(packet.pts)
        if start is not None:
            ticks = start + max(packet.duration or 0, 1)
            if scan.video_end_ticks is None or ticks > scan.video_end_ticks:
                scan.video_end_ticks = ticks
                scan.video_end = float(ticks * packet.time_base)
    return scan


def frame_times(pts, time_base, fps: float) -> np.ndarray:
    """Seconds of each frame from packet timestamps (in decode order, None where missing).

    A missing timestamp is the previous one + ``1 / fps`` (0 for a first frame without one);
    times are sorted into presentation order and forced to increase by the same step where
    they do not.
    """
    step = 1.0 / fps if np.isfinite(fps) and fps > 0 else 1.0 / 30.0
    scale = float(time_base) if time_base else 0.0
    times = np.empty(len(pts), np.float64)
    previous = None
    for i, value in enumerate(pts):
        if value is None or not scale:
            times[i] = 0.0 if previous is None else previous + step
        else:
            times[i] = value * scale
        previous = times[i]
    times.sort()
    stuck = np.flatnonzero(np.diff(times) <= 0)
    if len(stuck):
        for i in range(stuck[0] + 1, len(times)):
            if times[i] <= times[i - 1]:
                times[i] = times[i - 1] + step
    return times


def declared(scan: Scan) -> str:
    """What the container declares, as the end of "N frames read ...", or ""."""
    if scan.formats & {"mov", "mp4"} and scan.declared_frames:
        return f" of the {scan.declared_frames} its index lists"
    if "avi" in scan.formats and scan.declared_frames:
        return f" of the {scan.declared_frames} its header declares"
    duration = scan.track_duration if scan.track_duration is not None else scan.file_duration
    if "matroska" in scan.formats and duration:
        return f" of the {duration:.3f} s the container declares"
    return ""


def missing_data(scan: Scan, times: np.ndarray, fps: float) -> tuple[int, str] | None:
    """``(frame where the data stops, why)``, or None if the file holds what it declares."""
    n = len(times)
    step = float(np.median(np.diff(times))) if n > 1 else (1 / fps if fps > 0 else 0.0)
    found = []
    if scan.corrupt_at is not None:
        found.append((scan.corrupt_at, f"; the container's packet for frame {scan.corrupt_at} "
                                       "is cut short"))
    if scan.formats & {"mov", "mp4"}:
        # The index is exact (fewer decoded than indexed frames is no error: decoders drop the
        # frames before an edit list's start, counted in ``stored``).
        if scan.stored < scan.declared_frames:
            found.append((n, f"; it holds data for {scan.stored}"))
    elif "avi" in scan.formats:
        # AVI timestamps count frame slots, empty (dropped) ones included, as the header does.
        if scan.video_end_ticks is not None and scan.video_end_ticks < scan.declared_frames:
            found.append((n, f"; its packets end at frame slot {scan.video_end_ticks}"))
    elif "matroska" in scan.formats:
        if scan.track_duration is not None:
            declared, end = scan.track_duration, scan.video_end
        else:
            declared, end = scan.file_duration, scan.file_end
        if declared and end is not None and end < declared - max(2 * step, 0.05):
            found.append((n, f"; its data ends at {end:.3f} s"))
        for index, skipped in scan.skips:
            # Bytes the demuxer skipped to find the next cluster, and frames missing there.
            jump = (times[index] - times[index - 1]) if 0 < index < n else 0.0
            if jump > 2 * step:
                found.append((index, f"; {skipped} bytes before frame {index} are unreadable "
                                     f"and {jump - step:.3f} s of frames are missing"))
    return min(found) if found else None


def mp4_without_index(path: Path) -> bool:
    """Whether ``path`` starts like an MP4/MOV file but holds no index (``moov`` box)."""
    try:
        with open(path, "rb") as file:
            if file.read(12)[4:8] != b"ftyp":
                return False
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return data.find(b"moov") < 0
    except (OSError, ValueError):
        return False


def before(frame, first_pts) -> bool:
    """Whether a decoded frame comes before the video's first clean frame."""
    return first_pts is not None and frame.pts is not None and frame.pts < first_pts


def first_clean_frame(container, search: int = 300):
    """The first decoded frame the decoder did not have to conceal (None: no frame decodes).

    Looks at most ``search`` frames past the first one; a video whose frames are all damaged
    that long starts at its first frame, and decoding reports the damage.
    """
    first = None
    for count, frame in enumerate(container.decode(video=0)):
        if first is None:
            first = frame
        if not frame.is_corrupt:
            return frame
        if count >= search:
            break
    return first


def drop_leading(scan: Scan, first_pts: int) -> None:
    """Take the packets presented before ``first_pts`` out of ``scan``'s frames."""
    leading = [i for i, pts in enumerate(scan.pts) if pts is not None and pts < first_pts]
    if not leading:
        return
    gone = set(leading)
    scan.pts = [pts for i, pts in enumerate(scan.pts) if i not in gone]

    def shifted(index: int) -> int:
        return index - sum(1 for i in leading if i < index)

    if scan.corrupt_at is not None:
        scan.corrupt_at = shifted(scan.corrupt_at)
    scan.skips = [(shifted(index), skipped) for index, skipped in scan.skips]
