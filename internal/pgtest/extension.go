package pgtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// InstallExtension writes the files of a test-only extension (for example
// "system_stats.control" and "system_stats--1.0.sql") into
// <shareDir>/extension/, so that CREATE EXTENSION works on every cluster of
// that installation. It is idempotent and safe for parallel tests: a file
// with the same content is left alone, and others are replaced atomically,
// so a server never reads a half-written script.
func InstallExtension(shareDir, name string, files map[string]string) error {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("install extension: invalid name %q", name)
	}
	dir := filepath.Join(shareDir, "extension")
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return fmt.Errorf("install extension %s: %s is not an extension directory", name, dir)
	}
	names := make([]string, 0, len(files))
	for file := range files {
		// Requiring the extension's own prefix keeps a test from replacing
		// a real extension's files, such as plpgsql.control.
		if file != filepath.Base(file) || !(strings.HasPrefix(file, name+".") || strings.HasPrefix(file, name+"--")) {
			return fmt.Errorf("install extension %s: file %q must be a plain name starting with %q", name, file, name)
		}
		names = append(names, file)
	}
	// Scripts go in before the control file, so a concurrent CREATE
	// EXTENSION that sees the control file also finds its script.
	sort.Slice(names, func(i, j int) bool {
		ci, cj := strings.HasSuffix(names[i], ".control"), strings.HasSuffix(names[j], ".control")
		if ci != cj {
			return cj
		}
		return names[i] < names[j]
	})
	for _, file := range names {
		if err := writeIfChanged(filepath.Join(dir, file), []byte(files[file])); err != nil {
			return fmt.Errorf("install extension %s: %w", name, err)
		}
	}
	return nil
}

// writeIfChanged replaces path with content through a rename, leaving an
// identical file untouched. The file is world-readable because the server
// may run as another user than the test.
func writeIfChanged(path string, content []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pgtest-*")
	if err != nil {
		return fmt.Errorf("create temp file for %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename into %s: %w", path, err)
	}
	return nil
}
