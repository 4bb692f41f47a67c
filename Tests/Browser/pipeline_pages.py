"""The sales pages in a real browser: headless Chromium driven by Selenium.

A rep captures a lead, converts it, meets the solution-design gate (refused until the contact
is a decision maker), creates a quote, sends it and prints it; the board shows the deal in its
stage. Run by GatewayTests (BrowserTests) against a stack it started:
    python3 pipeline_pages.py BASE_URL USERNAME PASSWORD
Exits non-zero, saying why, when anything is not as expected.
"""
import json
import sys
import urllib.request

from selenium.webdriver.common.by import By

from web_pages import browser, wait_until


def api(base, token, method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def main(base, username, password):
    token = json.loads(urllib.request.urlopen(urllib.request.Request(
        base + "/api/v1/auth/sign-in", data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"})).read())["token"]
    driver = browser(wait=5)
    try:
        driver.get(base + "/login")
        driver.find_element(By.ID, "username").send_keys(username)
        driver.find_element(By.ID, "password").send_keys(password)
        driver.find_element(By.ID, "sign-in").click()
        wait_until(driver, lambda d: d.current_url.endswith("/accounts"), lambda d: d.current_url)

        # Capture a lead on the leads page; it is listed with its score and a first-touch task.
        driver.get(base + "/leads")
        driver.find_element(By.ID, "company_name").send_keys("无锡新达数控设备有限公司")
        driver.find_element(By.ID, "contact_name").send_keys("钱工")
        driver.find_element(By.ID, "region").send_keys("华东")
        driver.find_element(By.ID, "need").send_keys("需要报价，今年有预算")
        driver.find_element(By.ID, "capture").click()
        def lead_rows(d):
            return [row.text for row in d.find_elements(By.CSS_SELECTOR, "#leads tbody tr")]
        wait_until(driver, lambda d: any("无锡新达数控" in row for row in lead_rows(d)), lead_rows)
        assert "24 小时内首次联系线索：无锡新达数控设备有限公司" in driver.find_element(By.ID, "tasks").text, driver.find_element(By.ID, "tasks").text

        # Convert it: the opportunity page.
        driver.find_element(By.CSS_SELECTOR, "#leads tbody tr button.convert").click()
        wait_until(driver, lambda d: "/opportunities/" in d.current_url, lambda d: d.current_url + d.page_source[:500])
        opportunity_url = driver.current_url
        assert driver.find_element(By.ID, "stage").text == "技术咨询", driver.find_element(By.ID, "stage").text
        account = driver.find_element(By.ID, "account")
        assert account.text == "无锡新达数控设备有限公司", account.text
        account_id = account.get_attribute("data-account")

        # The gate: no decision maker among the contacts yet.
        driver.find_element(By.CSS_SELECTOR, "button.move[data-stage='2']").click()
        wait_until(driver, lambda d: "decision maker" in d.page_source, lambda d: d.page_source[:800])

        # The contact becomes the decision maker (through the API); now the move passes.
        contact = api(base, token, "GET", "/api/v1/accounts/%s/contacts" % account_id)["contacts"][0]
        contact["buying_role"] = "BUYING_ROLE_DECISION_MAKER"
        api(base, token, "PUT", "/api/v1/contacts/%s" % contact["id"], {"contact": contact})
        driver.get(opportunity_url)
        driver.find_element(By.CSS_SELECTOR, "button.move[data-stage='2']").click()
        wait_until(driver, lambda d: d.find_element(By.ID, "stage").text == "方案设计", lambda d: d.page_source[:800])

        # A quote: two machines at 250,000 with 5 % off (within the rep's authority), sent.
        driver.find_element(By.ID, "sku").send_keys("VMC-850")
        driver.find_element(By.ID, "quote-name").send_keys("立式加工中心")
        quantity = driver.find_element(By.ID, "quantity")
        quantity.clear()
        quantity.send_keys("2")
        driver.find_element(By.ID, "unit_price").send_keys("250000")
        discount = driver.find_element(By.ID, "discount_percent")
        discount.clear()
        discount.send_keys("5")
        driver.find_element(By.ID, "create-quote").click()
        def quote_status(d):
            return [cell.text for cell in d.find_elements(By.CSS_SELECTOR, "#quotes td.quote-status")]
        wait_until(driver, lambda d: quote_status(d) == ["已批准"], quote_status)
        driver.find_element(By.CSS_SELECTOR, "#quotes button.send").click()
        wait_until(driver, lambda d: quote_status(d) == ["已发送"], quote_status)

        # The printable quote.
        driver.find_element(By.LINK_TEXT, "打印").click()
        wait_until(driver, lambda d: "/print" in d.current_url, lambda d: d.current_url)
        assert driver.find_element(By.ID, "quote-total").text == "¥475,000.00", driver.find_element(By.ID, "quote-total").text
        assert driver.find_element(By.ID, "customer").text == "无锡新达数控设备有限公司", driver.find_element(By.ID, "customer").text

        # The board: the deal in its column.
        driver.get(base + "/pipeline")
        assert "无锡新达数控" in driver.find_element(By.ID, "stage-2").text, driver.find_element(By.ID, "board").text
        print("pipeline pages ok")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:4])
