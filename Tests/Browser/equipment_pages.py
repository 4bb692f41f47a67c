"""A machine's page in a real browser: headless Chromium driven by Selenium.

An engineer opens the machine whose vibration is drifting: the page draws its telemetry as an
inline SVG chart with the rule's limit, lists the open prediction and its predictive work
order; the engineer finds the work order in their list, records the visit (result, labour,
parts) on the machine's page, and the prediction shows as handled. The 360° card names the
prediction. Run by GatewayTests (BrowserTests):
    python3 equipment_pages.py BASE_URL EQUIPMENT_ID ACCOUNT_ID ENGINEER PASSWORD
Exits non-zero, saying why, when anything is not as expected.
"""
import sys

from selenium.webdriver.common.by import By

from complaint_pages import shot
from order_pages import browser, sign_in
from web_pages import wait_until


def main(base, equipment_id, account_id, engineer, password):
    driver = browser()
    try:
        sign_in(driver, base, engineer, password)
        driver.get(base + "/accounts/" + account_id)
        card = driver.find_element(By.ID, "section-service").text
        assert "故障预测" in card and "主轴轴承磨损" in card, card

        driver.get(base + "/work-orders")
        orders = driver.find_element(By.ID, "work-orders").text
        assert "预测性维护" in orders and "VMC850-26-0117" in orders, orders

        driver.get(base + "/equipment/" + equipment_id)
        chart = driver.find_element(By.ID, "telemetry-chart")
        points = chart.find_element(By.ID, "telemetry-line").get_attribute("points").split()
        assert len(points) > 1000, "the chart has %d points" % len(points)
        limits = chart.find_elements(By.CSS_SELECTOR, "line.limit")
        assert len(limits) == 1, "%d limit lines" % len(limits)
        assert "振动" in driver.find_element(By.CSS_SELECTOR, ".filters").text
        predictions = driver.find_element(By.ID, "predictions").text
        assert "主轴轴承磨损" in predictions and "处理中" in predictions and "预计" in predictions, predictions
        shot(driver, "equipment")

        form = driver.find_element(By.CSS_SELECTOR, "form.complete-work-order")
        form.find_element(By.NAME, "result").send_keys("更换主轴前轴承，振动恢复 2.1 mm/s")
        form.find_element(By.NAME, "labour_hours").send_keys("3.5")
        form.find_element(By.NAME, "parts").send_keys("SP-BRG-7014×2")
        form.find_element(By.TAG_NAME, "button").click()
        wait_until(driver, lambda d: "已完工" in d.find_element(By.ID, "work-orders").text,
                   lambda d: "the work order was not completed: " + d.find_element(By.TAG_NAME, "main").text[:400])
        done = driver.find_element(By.ID, "work-orders").text
        assert "3.5 工时" in done and "SP-BRG-7014 × 2.0" in done, done
        assert "已处理" in driver.find_element(By.ID, "predictions").text, driver.find_element(By.ID, "predictions").text
        print("equipment pages ok")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:6])
