from __future__ import annotations

import re

import numpy as np
import pytest

from beetsplug.cluster.clustering.naming import (
    apply_template,
    name_clusters,
    safe_filename,
    safe_filenames,
)
from beetsplug.cluster.clustering.runs import Numbers, playlist_names

TAGS = ("rock", "guitar", "fast", "classical", "piano", "slow", "electronic")


def _tag_library() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 30)
    probs = rng.uniform(0.0, 0.2, size=(90, len(TAGS)))
    probs[:30, [0, 1, 2]] += [0.7, 0.6, 0.4]  # a rock cluster
    probs[30:60, [3, 4, 5]] += [0.7, 0.5, 0.3]  # a classical one
    probs[60:, 6] += 0.7  # electronic, nothing else stands out
    return labels, probs


def test_tag_names_are_the_most_over_represented_tags():
    labels, probs = _tag_library()
    names = name_clusters(labels, tags=probs, tag_names=TAGS)
    assert names[0] == "rock · guitar · fast"
    assert names[1] == "classical · piano · slow"
    assert names[2].startswith("electronic")


def test_names_lead_with_what_sets_a_cluster_apart_from_the_library():
    # issue 19: the largest difference from the library's average first, not a band per
    # descriptor in a fixed order (9 of 12 names began with "mid-tempo")
    labels = np.repeat([0, 1, 2], 20)
    rng = np.random.default_rng(1)
    tempo = np.concatenate([rng.normal(70, 5, 20), rng.normal(120, 5, 20), rng.normal(170, 5, 20)])
    centroid = np.concatenate([rng.normal(800, 50, 20), rng.normal(3000, 50, 20),
                               rng.normal(1800, 50, 20)])  # fmt: skip
    rms = np.concatenate([rng.normal(0.02, 0.005, 20), rng.normal(0.1, 0.01, 20),
                          rng.normal(0.3, 0.02, 20)])  # fmt: skip
    names = name_clusters(labels, descriptors={"bpm": tempo, "spectral_centroid": centroid,
                                               "rms": rms})  # fmt: skip
    assert names == {0: "very slow · very dark · calm",
                     1: "very bright",  # average tempo and energy: not worth a word
                     2: "very energetic · very fast"}  # fmt: skip


def test_beets_fields_common_to_most_tracks():
    labels = np.array([0, 0, 0, 1, 1, 1])
    fields = {
        "genres": [["Rock", "Indie"], ["Rock"], ["Pop"], [], ["Jazz"], ["Jazz"]],
        "year": [1994, 1998, 0, 1971, 2003, 1965],
    }
    names = name_clusters(labels, fields=fields)
    assert names[0] == "Rock · 1990s"
    assert names[1] == "Jazz"  # 1970s, 2000s, 1960s: no decade is shared by half
    fields["year"] = [1994, 1998, 0, 1961, 2003, 1965]
    assert name_clusters(labels, fields=fields)[1] == "Jazz · 1960s"


def test_names_are_unique_and_fall_back_in_order():
    labels = np.array([0, 0, 1, 1, 1, 2, -1])
    fields = {"genre": ["rock", "rock", "rock", "rock", "rock", None, "pop"]}
    names = name_clusters(labels, fields=fields)
    assert set(names) == {0, 1, 2}  # noise gets no playlist
    assert names[1] == "rock" and names[0] == "rock (2)"  # the bigger cluster keeps the name
    assert names[2] == "cluster 2"
    assert len({n.casefold() for n in names.values()}) == len(names)


def test_template_numbers_and_errors():
    names = {3: "rock", 12: "jazz"}
    assert apply_template(names, "{number:02d} {name}") == {3: "03 rock", 12: "12 jazz"}
    assert apply_template(names, "Mix") == {3: "Mix", 12: "Mix (2)"}
    with pytest.raises(ValueError, match="template"):
        apply_template(names, "{title}")


WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rock · guitar · fast", "rock · guitar · fast"),
        ('AC/DC: "live"?', "AC_DC_ _live__"),
        ("con", "_con"),
        ("NUL.m3u8", "_NUL.m3u8"),
        ("com1 ", "_com1"),
        ("LPT¹", "_LPT¹"),
        ("console", "console"),
        ("...hidden", "hidden"),
        ("trailing. . ", "trailing"),
        ("tab\tnew\nline", "tab_new_line"),
        ("", "playlist"),
        ("...", "playlist"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_caps_bytes_without_cutting_a_character():
    long = "é" * 300  # 2 bytes each
    out = safe_filename(long, max_bytes=101)
    assert out == "é" * 50
    assert len(out.encode("utf-8")) <= 101


def test_safe_filenames_are_unique_and_valid_everywhere():
    names = {0: "a/b", 1: "a_b", 2: "A_B", 3: "x" * 400 + "1", 4: "x" * 400 + "2"}
    files = safe_filenames(names)
    assert len({f.casefold() for f in files.values()}) == 5
    for f in files.values():
        assert not WINDOWS_BAD.search(f)
        assert not f.endswith((".", " "))
        assert len(f.encode("utf-8")) <= 210


def test_clusters_that_differ_on_any_descriptor_get_no_counter():
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1, 2, 3, 4], 30)
    # Tempo alone tells them apart; 1 and 2 sit close together below the library's middle.
    tempo = np.concatenate([rng.normal(m, 2, 30) for m in (60, 100, 108, 140, 170)])
    centroid = rng.normal(2000, 50, 150)
    rms = rng.normal(0.1, 0.01, 150)
    names = name_clusters(labels, descriptors={"tempo": tempo, "brightness": centroid,
                                               "energy": rms})
    assert not any("(" in n for n in names.values()), names
    assert len({n.casefold() for n in names.values()}) == 5, names
    assert names[0].startswith("very slow") and names[4].startswith("very fast"), names
    # no descriptor differs: a beets field most tracks share tells them apart
    same = name_clusters(np.repeat([0, 1], 30), descriptors={"tempo": np.ones(60)},
                         fields={"album": ["A"] * 30 + ["B"] * 30})
    assert same == {0: "A", 1: "B"}


def test_beets_fields_count_as_words_beside_descriptors():
    rng = np.random.default_rng(4)
    labels = np.repeat([0, 1, 2], 20)
    tempo = np.concatenate([rng.normal(m, 3, 20) for m in (90, 100, 150)])
    album = ["Pushover"] * 18 + ["Drascula"] * 42  # cluster 0 is almost one minority album
    names = name_clusters(labels, descriptors={"tempo": tempo}, fields={"album": album})
    assert names[0].startswith("Pushover"), names
    assert names[2].startswith("very fast"), names
    assert "Drascula" not in names[2] or names[2].index("Drascula") > 0


def test_clusters_with_the_same_top_tags_differ_in_the_tag_that_separates_them():
    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1, 2], 30)
    probs = rng.uniform(0.0, 0.1, size=(90, len(TAGS)))
    probs[:60, [0, 1, 2]] += [0.8, 0.7, 0.6]  # two rock clusters ...
    probs[:30, 4] += 0.15  # ... one with some piano
    probs[30:60, 6] += 0.15  # ... one with some electronics
    probs[60:, 3] += 0.8
    names = name_clusters(labels, tags=probs, tag_names=TAGS)
    assert names[0] == "rock · guitar · fast · piano"
    assert names[1] == "rock · guitar · fast · electronic"


def test_a_continuing_cluster_keeps_its_name_and_a_new_one_takes_another():
    # issue 19: a playlist's file is its identity in players; the name chosen at birth stays
    labels = np.repeat([0, 1, 2], 10)
    fields = {"genre": ["rock"] * 10 + ["jazz"] * 10 + ["pop"] * 10}
    numbers = Numbers({0: 1, 1: 2, 2: 3}, continued={1, 2})
    earlier = {1: "01 jazz", 2: "02 soul"}  # a run of fewer clusters named 1 after its jazz
    names = playlist_names(labels, numbers, template="{number:02d} {name}",
                           previous_names=earlier, fields=fields)
    assert names == {1: "01 jazz", 2: "02 soul", 3: "03 pop"}  # even where 1 holds rock now
    names = playlist_names(labels, Numbers(numbers, continued={1}), template="{number:02d} {name}",
                           previous_names={1: "01 rock music", 2: "02 soul"}, fields=fields)
    assert names == {1: "01 rock music", 2: "02 jazz", 3: "03 pop"}  # 2 took number 2 by fit
    names = playlist_names(labels, numbers, template="{name}", fields=fields,
                           previous_names={1: "jazz", 2: "soul"})
    assert names[1] == "jazz" and names[2] == "soul" and names[3] == "pop"
    born = playlist_names(labels, Numbers(numbers, continued={1}), template="{name}",
                          previous_names={1: "jazz"}, fields=fields)
    assert born[1] == "jazz" and born[2] != "jazz"  # the new cluster never takes a kept name
