"""What a run leaves behind: M3U8 playlists (playlists, paths), file tags, the map."""
