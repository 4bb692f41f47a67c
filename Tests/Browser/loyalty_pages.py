"""The loyalty pages in a real browser: headless Chromium via Selenium.

A sales manager signs in and opens a customer: the 360° loyalty card shows silver and what
gold still needs; the member page explains why — silver's criteria met, gold's purchases and
optional criteria not — and lists the entitlements left (the free diagnostic used by the
service desk's work order); the programme overview counts the member and this quarter's
movement. Run by GatewayTests (BrowserTests):
    python3 loyalty_pages.py BASE_URL ACCOUNT_ID MANAGER PASSWORD
Exits non-zero, saying why, when anything is not as expected.
"""
import sys

from selenium.webdriver.common.by import By

from complaint_pages import shot
from order_pages import browser, sign_in
from web_pages import wait_until


def main(base, account_id, manager, password):
    driver = browser()
    try:
        driver.set_window_size(1280, 1000)
        sign_in(driver, base, manager, password)
        driver.get(base + "/accounts/" + account_id)
        wait_until(driver, lambda d: d.find_elements(By.ID, "section-loyalty"), lambda d: "no loyalty card: " + d.page_source[:300])
        card = driver.find_element(By.ID, "section-loyalty").text
        assert "银牌" in card, card
        assert "还差 CNY 2,700,000.00 采购额" in card, card
        card_link = driver.find_element(By.CSS_SELECTOR, "#section-loyalty a")
        card_link.click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "check-gold"), lambda d: "no member page: " + d.page_source[:300])

        # Why silver: every silver criterion that counts is met.
        silver = driver.find_element(By.ID, "check-silver")
        assert silver.get_attribute("data-reached") == "true", silver.text
        assert "已达到" in silver.text and "CNY 2,300,000.00" in silver.text, silver.text
        # What gold needs: ¥2.7 M more, and one more optional criterion.
        gold = driver.find_element(By.ID, "check-gold")
        assert gold.get_attribute("data-reached") == "false", gold.text
        unmet = [row.text for row in gold.find_elements(By.CSS_SELECTOR, "tr.criterion.unmet")]
        assert any("还差 CNY 2,700,000.00" in row for row in unmet), unmet
        met_years = [row.text for row in gold.find_elements(By.CSS_SELECTOR, "tr.criterion.met") if "合作年限" in row.text]
        assert met_years and "3 年" in met_years[0], met_years
        needs = driver.find_element(By.ID, "next-tier").text
        assert "金牌" in needs and "还差 CNY 2,700,000.00 采购额" in needs and "再满足 1 项可选条件" in needs, needs
        entitlements = driver.find_element(By.ID, "entitlements").text
        assert "免费上门诊断" in entitlements and "0 / 1" in entitlements, entitlements
        assert "采购折扣" in entitlements, "a manager sees the discount: " + entitlements
        shot(driver, "loyalty-member")

        driver.get(base + "/loyalty")
        counts = {el.get_attribute("data-tier"): el.find_element(By.CLASS_NAME, "members").text
                  for el in driver.find_elements(By.CSS_SELECTOR, ".tier-count")}
        assert counts.get("silver") == "1", counts
        movements = driver.find_element(By.ID, "movements").text
        assert "无锡精工机械" in movements and "银牌" in movements, movements
        assert "近 12 个月采购 ≥ ¥5,000,000.00" in driver.find_element(By.ID, "programme-tiers").text
        shot(driver, "loyalty-overview")
        print("loyalty pages ok")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:5])
