#!/usr/bin/python3
"""The `simple` sign-up/sign-in, driven by Selenium 4 (Debian python3-selenium
and chromium-driver) instead of Playwright: proof that the Selenium recipe in
docs/browser-testing.md works. Run it under `vauth run` so Chromium sees the key:

    vauth run -- selenium_flow.py http://localhost:PORT
"""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def call(driver, function, request):
    # The page's helpers return a promise; execute_async_script hands us a callback.
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"window.{function}(arguments[0]).then(done);",
        request,
    )


def main():
    rp = sys.argv[1]
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_script_timeout(60)
    failures = 0
    try:
        driver.get(rp)
        steps = [
            ("sign-up", "vauthRegister", {"name": "carol", "residentKey": "discouraged", "userVerification": "discouraged"}),
            ("sign-in", "vauthSignIn", {"name": "carol", "userVerification": "discouraged"}),
        ]
        for name, function, request in steps:
            result = call(driver, function, request)
            ok = bool(result.get("ok")) and (function != "vauthSignIn" or result.get("user") == "carol")
            failures += not ok
            print(json.dumps({"driver": "selenium", "step": name, "pass": ok, "result": result}), flush=True)
    finally:
        driver.quit()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
