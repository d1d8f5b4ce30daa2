"""The coalescing rules of the watcher: many changes -> one net change per path."""

from __future__ import annotations

from pathlib import Path

from clusterd.changes import Batch, Change
from clusterd.coalesce import Coalescer

A, B, C, T = Path("/m/a.mp3"), Path("/m/b.mp3"), Path("/m/c.mp3"), Path("/m/t.mp3")


def net(*changes: Change) -> Batch:
    co = Coalescer()
    for i, change in enumerate(changes):
        co.apply(change, now=float(i))
    batch = co.take(lambda _p, _e: True)
    assert len(co) == 0
    return batch


def test_create_then_writes_is_one_addition():
    b = net(Change("created", A), Change("modified", A), Change("modified", A), Change("closed", A))
    assert b == Batch(added=(A,))


def test_create_then_delete_is_nothing():
    assert not net(Change("created", A), Change("modified", A), Change("deleted", A))


def test_known_file_written_then_deleted_is_a_removal():
    assert net(Change("modified", A), Change("deleted", A)) == Batch(removed=(A,))


def test_move_chain_collapses():
    assert net(Change("moved", A, B), Change("moved", B, C)) == Batch(moved=((A, C),))


def test_move_there_and_back_is_nothing():
    assert not net(Change("moved", A, B), Change("moved", B, A))


def test_new_file_renamed_is_an_addition_at_its_final_name():
    assert net(Change("created", A), Change("moved", A, B)) == Batch(added=(B,))


def test_move_then_write_keeps_the_move_and_reanalyses():
    b = net(Change("moved", A, B), Change("modified", B), Change("closed", B))
    assert b == Batch(moved=((A, B),), added=(B,))


def test_move_then_delete_removes_both_records():
    b = net(Change("moved", A, B), Change("deleted", B))
    assert set(b.removed) == {A, B} and not b.moved and not b.added


def test_the_same_move_reported_twice_is_one_move():
    assert net(Change("moved", A, B), Change("moved", A, B)) == Batch(moved=((A, B),))


def test_swap_through_a_temporary_name_is_two_simultaneous_moves():
    b = net(Change("moved", A, T), Change("moved", B, A), Change("moved", T, B))
    assert set(b.moved) == {(B, A), (A, B)} and not b.removed and not b.added


def test_deleted_folder_drops_what_was_pending_under_it():
    album = Path("/m/album")
    b = net(
        Change("created", album / "1.mp3"),
        Change("moved", A, album / "2.mp3"),
        Change("deleted", album / "3.mp3"),
        Change("deleted", album),
    )
    # 1 was new (nothing to forget); 2 came from A, so A's record goes; 3 is under the folder.
    assert set(b.removed) == {A, album} and not b.added and not b.moved


def test_delete_then_recreate_forgets_the_old_record_first():
    b = net(Change("deleted", A), Change("created", A), Change("closed", A))
    assert b == Batch(removed=(A,), added=(A,))


def test_move_into_a_folder_removed_and_recreated_in_the_same_batch_is_reanalysed():
    album = Path("/m/album")
    b = net(Change("deleted", album), Change("moved", A, album / "a.mp3"))
    # Applied in order (moves, removals) the removal would eat the moved record.
    assert not b.moved
    assert set(b.removed) == {album, A} and b.added == (album / "a.mp3",)


def test_unready_entries_stay_and_dropped_moves_forget_their_origin():
    co = Coalescer()
    co.apply(Change("created", A), now=0.0)
    co.apply(Change("moved", B, C), now=0.0)
    co.apply(Change("modified", C), now=0.0)
    co.apply(Change("deleted", T), now=0.0)
    first = co.take(lambda p, _e: False if p == A else None)
    assert first == Batch(removed=(B, T))
    assert list(co.entries) == [A]
    assert co.take(lambda _p, _e: True) == Batch(added=(A,))
