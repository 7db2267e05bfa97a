# A Sphinx project that embeds <wheel-verify> (built by tests/e2e/docs.test.mjs).
project = "mypkg"
exclude_patterns = ["_build"]

# The widget's files go in _static/wheelsig/ (wheel-verify.js, worker.js, worker-client.js,
# first-use.js, log-memory.js, escape.js, pkg/): copied from the npm package @wheelsig/verify.
html_static_path = ["_static"]
html_js_files = [("wheelsig/wheel-verify.js", {"type": "module"})]
