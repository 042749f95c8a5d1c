// Package watch tells weir when the manifests it runs may have changed. It
// owns watching the paths `weir run PATH...` was given: choosing how
// (fsnotify, polling, or not at all), which directories to watch, debouncing
// a burst of events into one notification, and falling back to polling when
// fsnotify cannot be set up. It does not read manifests for the caller nor say
// what changed in them: a notification means "load the whole folder again as
// one snapshot", and the paths it carries are for the log.
//
// # What counts as a change
//
// A Watcher keeps a fingerprint of what the paths hold, walked the way
// spec.ReadFiles walks them: directories recursively, names starting with
// "." skipped inside directories, visible symlinks followed, symlink loops
// entered once. Every file met counts, not only *.yaml and *.yml,
// because manifests name other files beside them (TLS PEM files, a password
// file). A file's entry is its resolved path and size, plus a SHA-256 of its
// content when it is at most 1 MiB (as manifests are), or its
// modification time when it is larger. A path that cannot be read enters the
// fingerprint with its error, so a broken symlink that is mended is a change.
//
// A notification goes out only when the fingerprint differs from the one at
// the last notification (or at New). Events are only triggers for a new
// walk: a burst of events gives one walk, and events about unrelated files
// beside a watched file, a `touch` that changes no byte, or a change that is
// undone before the burst settles give no notification at all. The content
// hash catches an edit that keeps the size and lands within the modification
// time's granularity, which size and mtime alone would miss. Hashing a
// folder of manifests costs microseconds per walk; only files over the
// limit, which would cost real time to read every Options.Interval, are
// judged by size and mtime instead.
//
// Directories in Options.Ignore are neither walked nor watched: weir's data
// directory, when it lies inside a watched folder, changes all the time.
//
// # Modes
//
// fsnotify (the default) watches, non-recursively as inotify does, every
// directory the walk enters, the directory holding each given path (so a
// path that is removed and created again, or a single file replaced by a
// rename, is seen), the directory holding every symlink met on the way to a
// target and the directory holding the target. When a given path does not
// exist, the deepest existing directory on its way is watched instead. Each
// directory is watched before it is listed, so a change is either seen by the
// walk or reported as an event afterwards. After events settle for
// Options.Debounce the tree is walked again: new directories gain watches,
// watches of directories no longer reached are dropped, and the fingerprint is
// compared. After a notification one more walk follows, to settle any change
// that raced with the walk.
//
// A Kubernetes ConfigMap mount needs nothing special beyond this. The mount
// holds a hidden timestamped directory, a hidden "..data" symlink to it and
// visible symlinks "app.yaml -> ..data/app.yaml". An update writes a new
// timestamped directory, renames a new "..data_tmp" symlink over "..data"
// and removes the old directory, all inside the mount, which is watched.
// The visible names resolve into the new directory, so every entry's resolved
// path changes at once and the swap gives one notification. The timestamped
// directories are watched as symlink targets, which also covers symlinks
// into directories outside the given paths.
//
// poll walks the tree every Options.Interval with no watches. A walk that
// differs starts the debounce: the tree is walked again after
// Options.Debounce until two walks agree, then one notification goes out.
//
// off never notifies.
//
// If fsnotify cannot be set up (no inotify instance left, the limit of
// watches reached, a directory that may not be watched), the Watcher logs
// why and polls instead, at start or whenever a later walk meets the
// failure. Mode reports which mode is in effect.
//
// A burst never waits more than ten times Options.Debounce: under a stream
// of events that never settles the tree is still walked at that pace.
//
// # Use
//
// Create the Watcher before the first load of the folder: a change between
// New and that load then costs one needless reload, while a change between
// the load and New would go unseen. Run it, and reload on every value
// received from Changes. Notifications are coalesced: if the caller is still
// reloading when a second one is due, the two are merged into one, and the
// channel never holds more than one.
package watch
