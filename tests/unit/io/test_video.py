"""Video and image reading and writing (posejax.io.video)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posejax.io import video as vio
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
