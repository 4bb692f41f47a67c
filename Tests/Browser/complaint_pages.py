"""The service pages in a real browser: headless Chromium driven by Selenium.

An engineer opens the ticket queue, finds the complaint a sales rep logged, and works it
through every step of the closed loop on the ticket page — acknowledged, root cause (refused
without a note), corrective action, verified, resolved, the customer's confirmation — then
closes it; the history shows each step with who did it. The 360° page's service card shows
the account's open ticket with its SLA state before. Run by GatewayTests (BrowserTests):
    python3 complaint_pages.py BASE_URL TICKET_ID ACCOUNT_ID ENGINEER PASSWORD
Exits non-zero, saying why, when anything is not as expected.
"""
import os
import sys

from selenium.webdriver.common.by import By

from order_pages import browser, sign_in
from web_pages import wait_until


def shot(driver, name, size=(1280, 1000)):
    """With FORGE_SCREENSHOTS set, saves the page there (for people reviewing the pages)."""
    folder = os.environ.get("FORGE_SCREENSHOTS")
    if folder:
        driver.set_window_size(*size)
        driver.save_screenshot(os.path.join(folder, name + ".png"))


def step(driver, note, expected):
    driver.find_element(By.ID, "complaint-note").send_keys(note)
    driver.find_element(By.ID, "complaint-next").click()
    wait_until(driver, lambda d: expected in d.find_element(By.ID, "complaint-step").text,
               lambda d: "the complaint did not reach " + expected + ": " + d.find_element(By.TAG_NAME, "main").text[:400])


def main(base, ticket_id, account_id, engineer, password):
    driver = browser()
    try:
        sign_in(driver, base, engineer, password)
        driver.get(base + "/accounts/" + account_id)
        card = driver.find_element(By.ID, "section-service").text
        assert "交货延误" in card and "剩余" in card, card
        shot(driver, "account-360")

        driver.get(base + "/tickets")
        row = driver.find_element(By.CSS_SELECTOR, '#queue tr[data-ticket="%s"]' % ticket_id)
        assert "投诉" in row.text and "P2" in row.text, row.text
        shot(driver, "ticket-queue")
        row.find_element(By.TAG_NAME, "a").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "complaint-step"), lambda d: "no ticket page: " + d.page_source[:300])
        assert "已受理" in driver.find_element(By.ID, "complaint-step").text

        step(driver, "已致电采购部王经理致歉，24 小时内给出说明", "已确认")
        assert "已达成" in driver.find_element(By.ID, "sla-response").text, driver.find_element(By.ID, "sla-response").text
        # Root cause without saying what it was: refused, the page says why.
        driver.find_element(By.ID, "complaint-next").click()
        wait_until(driver, lambda d: "400" in d.page_source and "note" in d.page_source,
                   lambda d: "an empty root cause was not refused: " + d.page_source[:300])
        driver.back()
        driver.refresh()
        step(driver, "排产系统未同步插单，物流未触发延误通知", "根因分析")
        step(driver, "插单需客户确认交期；延误自动通知客户", "纠正措施")
        step(driver, "两周内 12 单按期，通知正常", "效果验证")
        shot(driver, "ticket-complaint")
        driver.find_element(By.ID, "resolution").send_keys("流程已改进，客户已获补偿方案")
        driver.find_element(By.ID, "resolve").click()
        wait_until(driver, lambda d: "已解决" in d.find_element(By.ID, "ticket-state").text,
                   lambda d: "not resolved: " + d.find_element(By.TAG_NAME, "main").text[:400])
        step(driver, "王经理邮件确认满意", "客户确认")
        driver.find_element(By.ID, "close").click()
        wait_until(driver, lambda d: "已关闭" in d.find_element(By.ID, "ticket-state").text,
                   lambda d: "not closed: " + d.find_element(By.TAG_NAME, "main").text[:400])
        shot(driver, "ticket-closed")
        history = driver.find_element(By.ID, "history").text
        for expected in ("创建", "已确认", "根因分析", "纠正措施", "效果验证", "解决", "客户确认", "关闭", engineer):
            assert expected in history, (expected, history)
        print("complaint pages ok")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:6])
