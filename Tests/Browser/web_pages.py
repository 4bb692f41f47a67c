"""The web pages in a real browser: headless Chromium driven by Selenium.

Signs in, searches for an account, opens its 360° page and checks what it shows; then edits
the account. Run by GatewayTests (BrowserTests) against a stack it started:
    python3 web_pages.py BASE_URL USERNAME PASSWORD SEARCH EXPECTED_NAME
Exits non-zero, saying why, when anything is not as expected.
"""
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.support.ui import WebDriverWait


class _PageChanging(Exception):
    """An element read while the browser swaps the page."""


def wait_until(driver, condition, failure):
    """Waits for `condition`: a click returns before the browser has followed a form post and
    its redirect, so the page may still be the one before (its elements going stale). Chromium
    may also say a node "does not belong to the document" when it is read mid-swap: that is
    the same race, and the wait goes on."""
    def attempt(d):
        try:
            return condition(d)
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                raise _PageChanging() from error
            raise
    try:
        WebDriverWait(driver, 10, ignored_exceptions=(StaleElementReferenceException, _PageChanging)).until(attempt)
    except TimeoutException:
        raise AssertionError(failure(driver))


def browser(size="1280,900", wait=2, language="zh-CN,zh"):
    """Headless Chromium asking for `language` (its Accept-Language): the pages follow the
    browser's language, and these tests read the Chinese ones unless they say otherwise."""
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={size}", f"--lang={language.split(',')[0]}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(wait)
    return driver


def main(base, username, password, search, expected):
    driver = browser(size="1024,768", wait=5)
    try:
        # Signed out: any page leads to the sign-in form; a wrong password says so.
        driver.get(base + "/accounts")
        assert driver.current_url.endswith("/login"), driver.current_url
        driver.find_element(By.ID, "username").send_keys(username)
        driver.find_element(By.ID, "password").send_keys("wrong password")
        driver.find_element(By.ID, "sign-in").click()
        assert "错误" in driver.find_element(By.ID, "error").text, driver.page_source[:500]

        driver.find_element(By.ID, "username").clear()
        driver.find_element(By.ID, "username").send_keys(username)
        driver.find_element(By.ID, "password").send_keys(password)
        driver.find_element(By.ID, "sign-in").click()
        wait_until(driver, lambda d: d.current_url.endswith("/accounts"), lambda d: d.current_url)

        # Search by name prefix, open the account.
        driver.find_element(By.ID, "q").send_keys(search)
        driver.find_element(By.ID, "search").click()
        def listed(d):
            return [link.text for link in d.find_elements(By.CSS_SELECTOR, "#accounts tbody a")]
        wait_until(driver, lambda d: listed(d) == [expected], listed)
        links = driver.find_elements(By.CSS_SELECTOR, "#accounts tbody a")
        links[0].click()

        # The 360° page: the name (Chinese, escaped HTML shown as text), every section with its status.
        assert driver.find_element(By.ID, "account-name").text == expected, driver.find_element(By.ID, "account-name").text
        status = {s.get_attribute("id"): s.get_attribute("data-status") for s in driver.find_elements(By.CSS_SELECTOR, "section.card")}
        for name in ("account", "contacts", "activities"):
            assert status.get("section-" + name) == "ok", status
        for name in ("pipeline", "orders", "service", "feedback", "loyalty", "analytics"):
            assert status.get("section-" + name) == "unavailable", status
        assert "王工" in driver.find_element(By.ID, "section-contacts").text
        assert "耐高温材料" in driver.find_element(By.ID, "section-activities").text
        assert driver.find_elements(By.CSS_SELECTOR, "#activity-chart rect"), "the activity chart is drawn"
        assert not driver.execute_script("return window.__xss === true"), "no script from the data ran"

        # The contact list of the account.
        account_url = driver.current_url
        driver.get(account_url + "/contacts")
        rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#contacts tbody tr")]
        assert len(rows) == 1 and "王工" in rows[0] and "采购经理" in rows[0], rows
        driver.get(account_url)

        # Edit: change the address, save, see it on the 360° page.
        driver.find_element(By.ID, "edit").click()
        address = driver.find_element(By.ID, "address")
        address.clear()
        address.send_keys("苏州工业园区星湖街 328 号")
        driver.find_element(By.ID, "save").click()
        address_shown = "苏州工业园区星湖街 328 号"
        wait_until(driver, lambda d: address_shown in d.find_element(By.ID, "section-account").text,
                   lambda d: d.page_source[:800])

        # The switch in the header: the same page in English, the choice remembered on the
        # next page, and back to Chinese; never both languages side by side.
        driver.get(account_url)
        driver.find_element(By.ID, "lang").click()
        wait_until(driver, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", lambda d: d.page_source[:300])
        card = driver.find_element(By.ID, "section-account").text
        assert "Account profile" in card and "Address" in card and address_shown in card, card
        assert "客户档案" not in driver.page_source and "退出" not in driver.page_source
        driver.get(account_url + "/contacts")
        assert "Department" in driver.find_element(By.ID, "contacts").text, "remembered on the next page"
        driver.find_element(By.ID, "lang").click()
        wait_until(driver, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN", lambda d: d.page_source[:300])
        assert "部门" in driver.find_element(By.ID, "contacts").text
        print("web pages ok")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:6])
