"""Video and image reading/writing, landmark files and the xarray export."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic_tracks import WIDTH, assert_tracks_equal, random_track

from posejax import io

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "data"
SPORTS2D = REPO / "datasets" / "sports2d_demo.mp4"


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared test media missing: {path}")
        pytest.skip(f"shared test media not found at {path} (../shared/data beside the repo)")
    return path


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
    path = io.write_video(tmp_path / "clip.mp4", frames, fps=12.5)
    video = io.read_video(path, chunk_size=4)
    assert (video.n_frames, video.height, video.width, video.fps) == (11, 48, 64, 12.5)
    chunks = list(video)
    assert [len(c) for c in chunks] == [4, 4, 3]
    assert all(c.dtype == np.uint8 and c.shape[1:] == (48, 64, 3) for c in chunks)
    decoded = np.concatenate(chunks)
    red = decoded[..., 0].astype(float).mean(axis=(1, 2))
    np.testing.assert_allclose(red, 20 + 10 * np.arange(11), atol=3)
    assert [len(c) for c in video.iter_chunks(5)] == [5, 5, 1]  # iterable again
    np.testing.assert_array_equal(video.read(), decoded)


def test_odd_sizes_are_padded_to_even_for_h264(tmp_path):
    frames = gradient_frames(3, height=33, width=45)
    video = io.read_video(io.write_video(tmp_path / "odd.mp4", frames, fps=10))
    assert (video.height, video.width) == (34, 46)


def test_video_writer_streams_chunks(tmp_path):
    with io.VideoWriter(tmp_path / "w.mp4", fps=24) as writer:
        writer.write(gradient_frames(3))
        writer.write(gradient_frames(1)[0])
        with pytest.raises(ValueError, match="differs"):
            writer.write(gradient_frames(1, height=32))
    assert writer.n_frames == 4
    assert io.read_video(tmp_path / "w.mp4").n_frames == 4
    with pytest.raises(TypeError, match="uint8"):
        io.write_video(tmp_path / "f.mp4", gradient_frames(2).astype(np.float32), fps=10)


def test_bundled_clip_metadata():
    video = io.read_video(SPORTS2D)
    assert (video.n_frames, video.width, video.height, video.fps) == (230, 1768, 994, 30.0)
    assert video.rotation == 0 and video.codec == "vp9"


def test_frame_count_ignores_empty_packets():
    """The Cinepak AVI claims 444 frames in its header but holds 68."""
    video = io.read_video(shared("videos/opencv_tree_no_person.avi"), chunk_size=32)
    assert video.n_frames == 68
    assert sum(len(c) for c in video) == 68


def test_palette_gif_is_rgb():
    video = io.read_video(shared("videos/mp_docs_yoga_flow_overlay.gif"))
    chunk = next(iter(video))
    assert chunk.shape[1:] == (366, 400, 3) and video.n_frames == 39


def test_missing_empty_and_corrupt_videos(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mp4"):
        io.read_video(tmp_path / "nope.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        io.read_video(tmp_path / "empty.mp4")
    (tmp_path / "notes.mp4").write_text("not a video at all\n" * 50)
    with pytest.raises(ValueError, match="notes.mp4"):
        io.read_video(tmp_path / "notes.mp4")
    with pytest.raises(ValueError, match="not a file"):
        io.read_video(tmp_path)
    with pytest.raises(ValueError, match="chunk_size"):
        io.read_video(SPORTS2D, chunk_size=0)


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
        io.read_video(path)


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
        io.read_video(header_only_video(tmp_path / "nothing.mkv"))


def test_truncated_video_fails_with_its_name(tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(SPORTS2D.read_bytes()[:400_000])
    with pytest.raises(ValueError, match="cut.mp4"):
        for _ in io.read_video(cut):
            pass


def test_memory_does_not_grow_with_video_length():
    import tracemalloc

    video = io.read_video(SPORTS2D, chunk_size=2)
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
    rgb = io.read_image(tmp_path / "grey.png")
    assert rgb.shape == (3, 4, 3) and (rgb == grey[..., None]).all()
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = (10, 20, 30)
    iio.imwrite(tmp_path / "rgba.png", rgba)  # fully transparent: the colour still counts
    assert io.read_image(tmp_path / "rgba.png").tolist() == [[[10, 20, 30]] * 2] * 2
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(ValueError, match="bad.png"):
        io.read_image(tmp_path / "bad.png")
    with pytest.raises(FileNotFoundError):
        io.read_image(tmp_path / "none.png")


def test_shared_rgba_and_grey_images():
    assert io.read_image(shared("images/tfex_image1_standing_woman_render.png")).shape == (
        640, 384, 3,
    )  # fmt: skip
    assert io.read_image(shared("images/opencv_basketball1_gray.png")).shape == (480, 640, 3)


# -- landmark files -------------------------------------------------------------------------------

TRACKS = {
    "single": lambda: random_track(),
    "named": lambda: random_track(names=("clip",)),
    "batch": lambda: random_track(batch=2, missing=(1,)),
    "named batch": lambda: random_track(batch=2, names=("b", "a")),
}


@pytest.mark.parametrize("units", ["normalized", "px"])
@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("kind", list(TRACKS))
def test_csv_and_parquet_round_trips(tmp_path, kind, suffix, layout, units):
    track = TRACKS[kind]()
    path = io.write_landmarks(track, tmp_path / f"poses{suffix}", layout=layout, units=units)
    df = io.read_landmarks(path)
    expected = track.to_dataframe(layout, units=units)
    pd.testing.assert_frame_equal(df, expected)
    assert df.attrs.keys() == expected.attrs.keys()
    assert_tracks_equal(track, io.read_track(path))


@pytest.mark.parametrize("units", ["normalized", "px"])
@pytest.mark.parametrize("kind", ["single", "named"])
def test_h5_round_trip_and_deeplabcut_view(tmp_path, kind, units):
    track = TRACKS[kind]()
    path = io.write_landmarks(track, tmp_path / "poses.h5", units=units)
    assert_tracks_equal(track, io.read_track(path))
    pd.testing.assert_frame_equal(io.read_landmarks(path), track.to_dataframe("wide", units=units))
    # What DeepLabCut and movement see: one table, no key needed.
    dlc = pd.read_hdf(path)
    assert dlc.columns.names == ["scorer", "bodyparts", "coords"]
    assert list(dlc.columns.get_level_values("coords")[:3]) == ["x", "y", "likelihood"]
    np.testing.assert_allclose(
        dlc[("posejax", "left_knee", "x")], track.landmarks[:, 25, 0].astype(float) * WIDTH
    )


def test_dataframe_input_keeps_its_layout_and_extra_attrs(tmp_path):
    df = random_track().to_dataframe("wide")
    df.attrs["sources"] = ["a.jpg", "b.jpg"]
    back = io.read_landmarks(io.write_landmarks(df, tmp_path / "w.csv"))
    pd.testing.assert_frame_equal(back, df)
    assert back.attrs["sources"] == ["a.jpg", "b.jpg"]
    interpolated = df.pose.interpolate(max_gap=2)  # float64 columns survive as float64
    back = io.read_landmarks(io.write_landmarks(interpolated, tmp_path / "i.parquet"))
    pd.testing.assert_frame_equal(back, interpolated)


def test_deeplabcut_csv_has_three_header_rows(tmp_path):
    track = random_track()
    path = io.write_landmarks(track, tmp_path / "dlc.csv", layout="dlc")
    assert path.read_text().splitlines()[0].startswith("scorer,posejax,posejax")
    table = pd.read_csv(path, header=[0, 1, 2], index_col=0)  # how DeepLabCut reads it
    pd.testing.assert_frame_equal(table, io.read_landmarks(path))
    back = io.read_track(path, fps=30.0, image_size=(120, 200))
    np.testing.assert_allclose(back.landmarks[..., :2], track.landmarks[..., :2], rtol=1e-6)


def test_long_csv_reads_with_plain_pandas(tmp_path):
    path = io.write_landmarks(random_track(), tmp_path / "long.csv")
    plain = pd.read_csv(path, comment="#")
    assert len(plain) == 6 * 33 and "left_knee" in set(plain.landmark)


def test_landmark_file_errors(tmp_path):
    track = random_track()
    with pytest.raises(ValueError, match=r"\.json"):
        io.write_landmarks(track, tmp_path / "poses.json")
    with pytest.raises(ValueError, match="one video"):
        io.write_landmarks(random_track(batch=2), tmp_path / "b.h5")
    with pytest.raises(ValueError, match="layouts"):
        io.write_landmarks(track, tmp_path / "p.parquet", layout="dlc")
    with pytest.raises(FileNotFoundError, match="folder"):
        io.write_landmarks(track, tmp_path / "missing" / "p.csv")
    with pytest.raises(TypeError, match="PoseTrack"):
        io.write_landmarks(np.zeros(3), tmp_path / "p.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a pose table"):
        io.read_landmarks(tmp_path / "other.csv")


# -- xarray ---------------------------------------------------------------------------------------


def test_to_xarray_matches_movement_layout():
    xr = pytest.importorskip("xarray", reason="xarray is an optional extra (posejax[xarray])")
    track = random_track(n_frames=5)
    ds = io.to_xarray(track)
    assert isinstance(ds, xr.Dataset)
    assert ds.position.dims == ("time", "space", "keypoints", "individuals")
    assert ds.confidence.dims == ("time", "keypoints", "individuals")
    assert list(ds.space.values) == ["x", "y"] and ds.keypoints.values[25] == "left_knee"
    np.testing.assert_allclose(ds.time.values, track.timestamps)
    knee_x = ds.position.sel(space="x", keypoints="left_knee", individuals="individual_0")
    np.testing.assert_allclose(knee_x, track.landmarks[:, 25, 0].astype(float) * WIDTH)
    assert ds.attrs["fps"] == 30.0 and ds.attrs["ds_type"] == "poses"
    world = track.to_dataframe("wide").pose.to_xarray(space="world")
    assert list(world.space.values) == ["x", "y", "z"]
    np.testing.assert_allclose(
        world.position.sel(space="z").values[..., 0], track.world_landmarks[..., 2]
    )
    with pytest.raises(ValueError, match="one video"):
        io.to_xarray(random_track(batch=2))
