//! The HTML report in a real browser (Debian's chromium, headless): it renders without
//! console errors, its SVG charts are drawn (non-empty boxes), and its filters work.
//! Needs chromium, so it is ignored by default; `.ci/run` installs chromium and runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn chromium() -> PathBuf {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("chromium is installed (apt-get install chromium)")
}

/// Headless chromium with the flags this machine needs (no sandbox as root, no network).
fn headless(profile: &Path) -> Command {
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// Runs before the page's own scripts: records every error and console.error.
const CATCH: &str = r#"<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
(function () { var ce = console.error; console.error = function () {
  window.__errors.push(Array.prototype.join.call(arguments, ' ')); ce.apply(console, arguments); }; })();
</script>"#;

/// Runs after the page: measures the charts, exercises the filters, writes the results
/// into the DOM for --dump-dom.
const PROBE: &str = r#"<script>
(function () {
  var charts = Array.prototype.map.call(document.querySelectorAll('svg'), function (s) {
    var r = s.getBoundingClientRect(), bars = s.querySelectorAll('rect').length, drawn = 0;
    s.querySelectorAll('rect').forEach(function (b) { var bb = b.getBBox(); if (bb.width > 0 && bb.height > 0) drawn++; });
    return { cls: s.getAttribute('class'), width: r.width, height: r.height, bars: bars, drawn: drawn };
  });
  var code = document.getElementById('f-code');
  code.value = 'FPX101';
  code.dispatchEvent(new Event('change'));
  var visible = Array.prototype.filter.call(document.querySelectorAll('.finding'), function (f) {
    return !f.classList.contains('hidden') && f.offsetParent !== null; });
  var result = { errors: window.__errors, charts: charts, findings: document.querySelectorAll('.finding').length,
    filtered: visible.map(function (f) { return f.dataset.code; }) };
  var pre = document.createElement('pre'); pre.id = 'fpx-probe'; pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
})();
</script>"#;

#[test]
#[ignore = "needs chromium (installed by .ci/run)"]
fn the_html_report_renders_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let status = Command::new(env!("CARGO_BIN_EXE_fpx"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "html", "--cases", "64", "--output"])
        .arg(&report)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "the bundled rules fail the gate");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained: no network"
    );

    let probed =
        html.replacen("<head>", &format!("<head>{CATCH}"), 1)
            .replacen("</body>", &format!("{PROBE}</body>"), 1);
    let page = dir.path().join("probed.html");
    std::fs::write(&page, probed).unwrap();
    let out = headless(&dir.path().join("profile"))
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"fpx-probe\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("the probe did not run: {}", String::from_utf8_lossy(&out.stderr)));
    let json = json
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "console errors");
    let charts = v["charts"].as_array().unwrap();
    assert!(
        charts.len() >= 26,
        "the code chart and one per scenario: {}",
        charts.len()
    );
    for c in charts {
        assert!(
            c["width"].as_f64().unwrap() > 0.0 && c["height"].as_f64().unwrap() > 0.0,
            "{c}"
        );
        assert!(c["drawn"].as_u64().unwrap() > 0, "no bar drawn: {c}");
    }
    assert!(v["findings"].as_u64().unwrap() > 100);
    let filtered = v["filtered"].as_array().unwrap();
    assert!(
        !filtered.is_empty() && filtered.iter().all(|c| c == "FPX101"),
        "{filtered:?}"
    );

    let shot = dir.path().join("report.png");
    let out = headless(&dir.path().join("profile2"))
        .args(["--window-size=1280,1600"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.display()))
        .output()
        .unwrap();
    let png = std::fs::read(&shot).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{} bytes", png.len());
    // README's picture of the report is this screenshot: regenerated with
    // `FPX_UPDATE_SCREENSHOT=1 cargo test --test html_browser -- --ignored`.
    if std::env::var_os("FPX_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.png"),
            &png,
        )
        .unwrap();
    }
}
