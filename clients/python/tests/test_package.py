"""The distribution as a user installs it: a real name and version, the license the other client packages declare."""
import json
import re
from pathlib import Path

import wxauth

HERE = Path(__file__).resolve().parent.parent


def test_name_version_and_license_match_the_other_packages():
    pyproject = (HERE / "pyproject.toml").read_text("utf-8")
    assert re.search(r'^name = "wxauthd-client"$', pyproject, re.M)
    version = re.search(r'^version = "(\d+\.\d+\.\d+)"$', pyproject, re.M).group(1)
    assert wxauth.__version__ == version
    for other in ("node", "miniprogram"):
        package = json.loads((HERE.parent / other / "package.json").read_text("utf-8"))
        assert package["version"] == version, other
        assert f'license = {{ text = "{package["license"]}' in pyproject, other
