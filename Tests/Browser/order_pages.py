"""The order pages in a real browser: headless Chromium driven by Selenium.

Finance opens the receivables page (ageing buckets, DSO, the overdue instalment), the order
with its margin, status timeline and payment plan, and records a payment through the form; the
rep who owns the order sees it without margins and is refused the receivables page. Run by
GatewayTests (BrowserTests) against a stack it started and filled:
    python3 order_pages.py BASE_URL ORDER_ID FINANCE_USER REP_USER PASSWORD
Exits non-zero, saying why, when anything is not as expected.
"""
import sys

from selenium.webdriver.common.by import By

from web_pages import browser, wait_until




def sign_in(driver, base, username, password):
    driver.get(base + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(driver, lambda d: "/login" not in d.current_url, lambda d: "sign-in failed: " + d.page_source[:300])


def main(base, order_id, finance, rep, password):
    driver = browser()
    try:
        sign_in(driver, base, finance, password)
        driver.get(base + "/receivables")
        bars = {bar.get_attribute("data-bucket"): bar.find_element(By.CLASS_NAME, "amount").text for bar in driver.find_elements(By.CSS_SELECTOR, "#ageing .bar")}
        assert set(bars) == {"current", "d1-30", "d31-60", "d61-90", "d90+"}, bars
        assert bars["d1-30"] == "¥10,000.00", bars
        assert "DSO" in driver.find_element(By.ID, "dso").text
        rows = driver.find_elements(By.CSS_SELECTOR, "#open-items tbody tr")
        assert any("逾期" not in row.text and "天" in row.text for row in rows), [row.text for row in rows]

        driver.get(base + "/orders/" + order_id)
        assert driver.find_element(By.ID, "margin").text == "¥30,000.00", driver.find_element(By.ID, "margin").text
        timeline = driver.find_element(By.ID, "timeline").text
        assert "已签收" in timeline and "SF20261202" in timeline, timeline
        driver.find_element(By.ID, "amount").send_keys("10000")
        driver.find_element(By.ID, "reference").send_keys("BANK-778899")
        driver.find_element(By.ID, "record-payment").click()
        wait_until(driver, lambda d: "已完成" in d.find_element(By.ID, "order-status").text,
                   lambda d: "the payment did not complete the order: " + d.find_element(By.TAG_NAME, "main").text[:400])
        driver.get(base + "/receivables")
        bars = {bar.get_attribute("data-bucket"): bar.find_element(By.CLASS_NAME, "amount").text for bar in driver.find_elements(By.CSS_SELECTOR, "#ageing .bar")}
        assert bars["d1-30"] == "¥0.00", bars
        driver.find_element(By.CSS_SELECTOR, "header form button").click()

        sign_in(driver, base, rep, password)
        driver.get(base + "/orders/" + order_id)
        assert driver.find_element(By.ID, "total").text == "¥100,000.00"
        assert not driver.find_elements(By.ID, "margin"), "the rep sees the margin"
        assert "毛利" not in driver.find_element(By.ID, "lines").text, "the rep sees line margins"
        assert not driver.find_elements(By.ID, "credit"), "the rep sees the credit check"
        driver.get(base + "/receivables")
        assert not driver.find_elements(By.ID, "ageing"), "the rep sees the receivables"
        print("order pages ok")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:6])
