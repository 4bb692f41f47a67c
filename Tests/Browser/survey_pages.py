"""The public survey page and the follow-up in a real browser: headless Chromium via Selenium.

A customer opens their one-time link on a phone-sized window (no sign-in), taps a 3, says why
and sends it; the link then says it was answered. The account owner signs in: the 360° card
and the follow-up list show the detractor's case; the owner closes it with what was done and
what changed; the NPS dashboard shows the answer. Run by GatewayTests (BrowserTests):
    python3 survey_pages.py BASE_URL SURVEY_PATH ACCOUNT_ID OWNER PASSWORD
Exits non-zero, saying why, when anything is not as expected.
"""
import sys

from selenium.webdriver.common.by import By

from complaint_pages import shot
from order_pages import browser, sign_in
from web_pages import wait_until


def main(base, survey_path, account_id, owner, password):
    driver = browser()
    try:
        # The customer, on a phone.
        driver.set_window_size(390, 844)
        driver.get(base + survey_path)
        question = driver.find_element(By.ID, "question").text
        assert "推荐" in question, question
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, "the page is %dpx wide on a 390px phone" % width
        buttons = driver.find_elements(By.CSS_SELECTOR, "#scale label")
        assert len(buttons) == 11, "%d score buttons" % len(buttons)
        buttons[3].click()
        driver.find_element(By.ID, "comment").send_keys("交货晚了一周，也没人提前通知")
        shot(driver, "survey-phone", (390, 844))
        driver.find_element(By.ID, "submit").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "thanks"), lambda d: "no thank-you page: " + d.page_source[:400])
        driver.get(base + survey_path)
        assert "您已经提交过了" in driver.find_element(By.TAG_NAME, "h1").text, driver.page_source[:300]

        # The owner.
        driver.set_window_size(1280, 900)
        sign_in(driver, base, owner, password)
        driver.get(base + "/accounts/" + account_id)
        card = driver.find_element(By.ID, "section-feedback").text
        assert "-100" in card and "待跟进" in card, card
        driver.get(base + "/follow-ups")
        rows = driver.find_elements(By.CSS_SELECTOR, "#follow-ups tbody tr")
        assert len(rows) == 1 and "NPS 3" in rows[0].text, [row.text for row in rows]
        rows[0].find_element(By.TAG_NAME, "a").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "close-form"), lambda d: "no close form: " + d.page_source[:300])
        assert "交货晚了一周" in driver.find_element(By.TAG_NAME, "main").text
        shot(driver, "follow-up")
        driver.find_element(By.ID, "actions_taken").send_keys("电话致歉，说明延误原因")
        driver.find_element(By.ID, "what_changed").send_keys("发货前三天起每天同步生产进度")
        driver.find_element(By.ID, "close-follow-up").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "closed"), lambda d: "the case did not close: " + d.find_element(By.TAG_NAME, "main").text[:400])
        assert "发货前三天起每天同步生产进度" in driver.find_element(By.ID, "what-changed").text
        assert "已告知客户" in driver.find_element(By.ID, "closed").text

        driver.get(base + "/nps")
        assert driver.find_element(By.ID, "nps-value").text == "-100", driver.find_element(By.ID, "nps-value").text
        assert "贬损 1" in driver.find_element(By.ID, "nps-split").text
        assert len(driver.find_elements(By.CSS_SELECTOR, "#nps-trend rect.month")) == 1
        assert "交货晚了一周" in driver.find_element(By.ID, "latest-answers").text
        shot(driver, "nps")
        print("survey pages ok")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:6])
