// Package browsertest drives Debian's headless Chromium for end-to-end
// tests of the fleet page. Render runs the browser once on a URL for the
// DOM after the page's script ran and a screenshot that must look like a
// page (RequirePage); Launch drives one over the DevTools protocol
// (chromedp) for tests that click and type. Both start the same binary
// with the same flags. It installs nothing: `make deps` installs
// chromium, and a test on a machine without it fails with that hint.
package browsertest
