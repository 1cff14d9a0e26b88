"""Add up pytest's JUnit reports into one closing line: `total: N passed, N failed, N skipped`.

Exits non-zero when any test failed or errored, or when the reports hold no test at all.
"""

import sys
import xml.etree.ElementTree as ET


def totals(paths: list[str]) -> dict[str, int]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in paths:
        root = ET.parse(path).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            for key in counts:
                counts[key] += int(suite.get(key, 0))
    return counts


def main(paths: list[str]) -> int:
    c = totals(paths)
    failed = c["failures"] + c["errors"]
    passed = c["tests"] - failed - c["skipped"]
    print(f"total: {passed} passed, {failed} failed, {c['skipped']} skipped")
    return 1 if failed or c["tests"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
