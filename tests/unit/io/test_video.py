"""Video and image reading and writing (posejax.io.video)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from posejax.io import _container_checks
from posejax.io import video as vio
from tests.helpers.clips import CONTAINERS, damaged_copy, truncated_copy, write_moving_clip
from tests.helpers.reference_data import REPO
from tests.helpers.reference_data import require_shared as shared

SPORTS2D = REPO / "datasets" / "sports2d_demo.mp4"


def gradient_frames(n: int, height: int = 48, width: int = 64) -> np.ndarray:
    """Frames whose brightness encodes the frame number, to check order after lossy coding."""
    frames = np.zeros((n, height, width, 3), np.uint8)
    for i in range(n):
        frames[i, ..., 0] = 20 + 10 * i
        frames[i, ..., 1] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
        frames[i, ..., 2] = 128
    return frames


# -- video ----------------------------------------------------------------------------------------


def test_write_then_read_video_in_chunks(tmp_path):
    frames = gradient_frames(11)
    path = vio.write_video(tmp_path / "clip.mp4", frames, fps=12.5)
    video = vio.read_video(path, chunk_size=4)
    assert (video.n_frames, video.height, video.width, video.fps) == (11, 48, 64, 12.5)
    chunks = list(video)
    assert [len(c) for c in chunks] == [4, 4, 3]
    assert all(c.dtype == np.uint8 and c.shape[1:] == (48, 64, 3) for c in chunks)
    decoded = np.concatenate(chunks)
    red = decoded[..., 0].astype(float).mean(axis=(1, 2))
    np.testing.assert_allclose(red, 20 + 10 * np.arange(11), atol=3)
    assert [len(c) for c in video.iter_chunks(5)] == [5, 5, 1]  # iterable again
    np.testing.assert_array_equal(video.read(), decoded)


def test_chunks_decoded_into_given_buffers_in_turn(tmp_path):
    video = vio.read_video(vio.write_video(tmp_path / "clip.mp4", gradient_frames(11), fps=10))
    fresh = list(video.iter_chunks(4))
    buffers = [np.zeros((4, 48, 64, 3), np.uint8) for _ in range(2)]
    seen = []
    for i, chunk in enumerate(video.iter_chunks(4, buffers)):
        assert np.shares_memory(chunk, buffers[i % 2])
        np.testing.assert_array_equal(chunk, fresh[i])   # before the buffer is reused
        seen.append(len(chunk))
    assert seen == [4, 4, 3]
    with pytest.raises(ValueError, match=r"buffers must be uint8 arrays of shape \(4, 48, 64"):
        next(video.iter_chunks(4, [np.zeros((3, 48, 64, 3), np.uint8)]))


def test_odd_sizes_are_padded_to_even_for_h264(tmp_path):
    frames = gradient_frames(3, height=33, width=45)
    video = vio.read_video(vio.write_video(tmp_path / "odd.mp4", frames, fps=10))
    assert (video.height, video.width) == (34, 46)


def test_video_writer_streams_chunks(tmp_path):
    with vio.VideoWriter(tmp_path / "w.mp4", fps=24) as writer:
        writer.write(gradient_frames(3))
        writer.write(gradient_frames(1)[0])
        with pytest.raises(ValueError, match="differs"):
            writer.write(gradient_frames(1, height=32))
    assert writer.n_frames == 4
    assert vio.read_video(tmp_path / "w.mp4").n_frames == 4
    with pytest.raises(TypeError, match="uint8"):
        vio.write_video(tmp_path / "f.mp4", gradient_frames(2).astype(np.float32), fps=10)


def test_bundled_clip_metadata():
    video = vio.read_video(SPORTS2D)
    assert (video.n_frames, video.width, video.height, video.fps) == (230, 1768, 994, 30.0)
    assert video.rotation == 0 and video.codec == "vp9"


def test_frame_count_ignores_empty_packets():
    """The Cinepak AVI claims 444 frames in its header but holds 68."""
    video = vio.read_video(shared("videos/opencv_tree_no_person.avi"), chunk_size=32)
    assert video.n_frames == 68
    assert sum(len(c) for c in video) == 68


def test_palette_gif_is_rgb():
    video = vio.read_video(shared("videos/mp_docs_yoga_flow_overlay.gif"))
    chunk = next(iter(video))
    assert chunk.shape[1:] == (366, 400, 3) and video.n_frames == 39


def test_missing_empty_and_corrupt_videos(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mp4"):
        vio.read_video(tmp_path / "nope.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        vio.read_video(tmp_path / "empty.mp4")
    (tmp_path / "notes.mp4").write_text("not a video at all\n" * 50)
    with pytest.raises(ValueError, match="notes.mp4"):
        vio.read_video(tmp_path / "notes.mp4")
    with pytest.raises(ValueError, match="not a file"):
        vio.read_video(tmp_path)
    with pytest.raises(ValueError, match="chunk_size"):
        vio.read_video(SPORTS2D, chunk_size=0)


def test_audio_only_file_has_no_video(tmp_path):
    import av

    path = tmp_path / "tone.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 8000
        for packet in list(stream.encode(frame)) + list(stream.encode()):
            container.mux(packet)
    with pytest.raises(ValueError, match="no video"):
        vio.read_video(path)


def header_only_video(path: Path) -> Path:
    """A Matroska file with a video stream and no frames."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()  # writes the header; no frame follows
    return path


def test_video_without_frames(tmp_path):
    with pytest.raises(ValueError, match="no video frames"):
        vio.read_video(header_only_video(tmp_path / "nothing.mkv"))


def test_truncated_video_fails_with_its_name(tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(SPORTS2D.read_bytes()[:400_000])
    with pytest.raises(ValueError, match="cut.mp4"):
        for _ in vio.read_video(cut):
            pass


def test_memory_does_not_grow_with_video_length():
    import tracemalloc

    video = vio.read_video(SPORTS2D, chunk_size=2)
    frame_bytes = 994 * 1768 * 3
    tracemalloc.start()
    try:
        count = 0
        for chunk in video:
            count += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 230
    assert peak < 8 * frame_bytes  # a few frames in flight, not 230


# -- images ---------------------------------------------------------------------------------------


def test_read_image_converts_grey_and_rgba(tmp_path):
    import imageio.v3 as iio

    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    iio.imwrite(tmp_path / "grey.png", grey)
    rgb = vio.read_image(tmp_path / "grey.png")
    assert rgb.shape == (3, 4, 3) and (rgb == grey[..., None]).all()
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = (10, 20, 30)
    iio.imwrite(tmp_path / "rgba.png", rgba)  # fully transparent: the colour still counts
    assert vio.read_image(tmp_path / "rgba.png").tolist() == [[[10, 20, 30]] * 2] * 2
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(ValueError, match="bad.png"):
        vio.read_image(tmp_path / "bad.png")
    with pytest.raises(FileNotFoundError):
        vio.read_image(tmp_path / "none.png")


def test_shared_rgba_and_grey_images():
    assert vio.read_image(shared("images/tfex_image1_standing_woman_render.png")).shape == (
        640, 384, 3,
    )  # fmt: skip
    assert vio.read_image(shared("images/opencv_basketball1_gray.png")).shape == (480, 640, 3)


# -- completeness: every container checked (fault injection) ---------------------------------


def _available(kind: str) -> bool:
    import av

    try:
        av.codec.Codec(CONTAINERS[kind][1], "w")
    except Exception:  # noqa: BLE001  (an FFmpeg build without this encoder)
        return False
    return True


KINDS = [pytest.param(k, marks=pytest.mark.skipif(not _available(k), reason="no encoder"))
         for k in CONTAINERS]


@pytest.fixture(scope="module", params=KINDS)
def clip_and_copies(request, tmp_path_factory):
    """A whole 150-frame clip, a copy cut at half its bytes and one with its middle overwritten."""
    folder = tmp_path_factory.mktemp(request.param)
    whole = write_moving_clip(folder / "whole", request.param)
    cut = truncated_copy(whole, folder / f"cut{whole.suffix}", 0.5)
    damaged = damaged_copy(whole, folder / f"damaged{whole.suffix}")
    return whole, cut, damaged


def test_whole_clips_decode_every_frame(clip_and_copies):
    whole, _, _ = clip_and_copies
    video = vio.read_video(whole, chunk_size=64)
    video.check()
    assert video.read().shape == (150, 96, 128, 3) and video.n_frames == 150
    np.testing.assert_allclose(video.timestamps, np.arange(150) / 30, atol=1e-3)


def test_a_copy_cut_at_half_raises_saying_where_decoding_stopped(clip_and_copies):
    _, cut, _ = clip_and_copies
    with pytest.raises(vio.VideoDecodeError) as info:
        vio.read_video(cut).read()
    error = info.value
    assert 0 < error.frames_read < 150 and error.path == cut
    message = str(error)
    assert f"{error.frames_read} frames read" in message and "truncated or corrupt" in message
    assert f"decoding stopped at frame {error.frames_read} (" in message and " s)" in message
    with pytest.raises(vio.VideoDecodeError):   # iterating finds it too
        for _ in vio.read_video(cut, chunk_size=16):
            pass


def test_a_copy_damaged_in_the_middle_raises(clip_and_copies):
    _, _, damaged = clip_and_copies
    with pytest.raises(vio.VideoDecodeError, match=r"damaged\.\w+' is truncated or corr") as info:
        vio.read_video(damaged).read()
    assert 0 < info.value.frames_read < 150


@pytest.mark.parametrize(("name", "messages"), [
    ("mkv-h264", ("of the 5.000 s the container declares",)),
    ("mp4-h264", ("of the 150 its index lists",)),
    ("avi-mjpeg", ("of the 150 its header declares", "is cut short")),
])
def test_the_message_says_what_the_container_declares(tmp_path, name, messages):
    cut = truncated_copy(write_moving_clip(tmp_path / "whole", name),
                         tmp_path / f"cut{CONTAINERS[name][0]}", 0.5)
    video = vio.read_video(cut)    # opens: the first half is there
    with pytest.raises(vio.VideoDecodeError) as info:
        video.check()
    assert any(m in str(info.value) for m in messages), str(info.value)


def test_a_lost_matroska_cluster_is_reported_not_skipped(tmp_path):
    whole = write_moving_clip(tmp_path / "whole", "mkv-h264")
    damaged = damaged_copy(whole, tmp_path / "damaged.mkv")
    with pytest.raises(vio.VideoDecodeError, match=r"bytes before frame \d+ are unreadable"):
        vio.read_video(damaged).check()


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO.parent / "shared" / "data"
                                                         / "videos").glob("*")))
def test_every_shared_video_passes_the_checks(name):
    video = vio.read_video(shared(f"videos/{name}"), chunk_size=128)
    video.check()
    count = sum(len(chunk) for chunk in video)
    assert count == video.n_frames == len(video.timestamps)
    assert np.all(np.diff(video.timestamps) > 0)


# -- real time --------------------------------------------------------------------------------

#: Irregular gaps, 0 to 3.9 s: a phone's variable frame rate.
VFR_TIMES = [0.0, 0.033, 0.1, 0.12, 0.25, 0.5, 0.52, 1.0, 1.7, 2.0, 2.9, 3.3, 3.9]


@pytest.mark.parametrize("kind", ["mp4-h264", "mkv-h264"])
def test_frame_times_are_the_containers_timestamps(tmp_path, kind):
    video = vio.read_video(write_moving_clip(tmp_path / "vfr", kind, times=VFR_TIMES))
    video.check()
    np.testing.assert_allclose(video.timestamps, VFR_TIMES, rtol=0, atol=1e-6)
    assert len(video.read()) == len(VFR_TIMES)
    late = vio.read_video(write_moving_clip(tmp_path / "late", kind,
                                            times=[10 + t for t in VFR_TIMES]))
    np.testing.assert_allclose(late.timestamps, np.add(VFR_TIMES, 10), rtol=0, atol=1e-6)


def test_frame_times_fill_gaps_and_keep_increasing():
    times = _container_checks.frame_times([0, None, 3000, 3000, 1000], 1 / 1000, fps=10)
    np.testing.assert_allclose(times, [0.0, 0.1, 1.0, 3.0, 3.1])


def test_a_bytes_path_is_a_clear_type_error():
    with pytest.raises(TypeError, match="str or pathlib.Path.*os.fsdecode"):
        vio.read_video(b"clip.mp4")


def _grey_ramp_mp4(path, n_frames: int, options=None):
    """An H.264 MP4 of ``n_frames`` 64x48 grey frames getting lighter, written with PyAV."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = options or {}
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 2 * i, np.uint8), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("suffix", [".mkv", ".ts"])
def test_a_clip_cut_without_reencoding_starts_at_its_first_clean_frame(tmp_path, suffix):
    """``ffmpeg -ss ... -c copy`` cuts between keyframes: the first packets refer to pictures
    before the cut. That is a whole file, not a damaged one: it reads, and each frame keeps its
    own container time."""
    source = _grey_ramp_mp4(tmp_path / "long.mp4", 90, options={"g": "30", "bf": "0"})
    cut = tmp_path / f"cut{suffix}"
    with av.open(str(source)) as src, av.open(str(cut), "w") as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        for index, packet in enumerate(p for p in src.demux(video=0) if p.dts is not None):
            if index >= 10:  # frame 10 is not a keyframe (those are 0, 30, 60)
                packet.stream = out
                dst.mux(packet)
    video = vio.read_video(cut)
    video.check()
    frames = video.read()
    assert len(frames) == video.n_frames == len(video.timestamps) and 50 < len(frames) <= 80
    with av.open(str(cut)) as container:
        decoded = [f.time for f in container.decode(video=0)]
    np.testing.assert_allclose(video.timestamps, decoded[-len(frames):], atol=1e-6)


def test_an_mp4_cut_before_its_index_says_so(tmp_path):
    """A recording stopped before its index (written last, at the end) was written."""
    whole = _grey_ramp_mp4(tmp_path / "recording.mp4", 30)  # no faststart: the index goes last
    data = whole.read_bytes()
    assert data.rfind(b"moov") > len(data) // 2
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="index was never written"):
        vio.read_video(cut)
