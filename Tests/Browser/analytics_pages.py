"""The analytics pages in a real browser: headless Chromium via Selenium.

An analyst signs in, reads 华东's NPS on feedback's NPS page, then filters the analytics
dashboard to 华东 with its form: the dashboard's NPS is the same figure, worked out from the
same answers (numerator and denominator shown). The charts are there; the risk list, the
monthly report, its CSV and its PDF open; the 360° page shows the customer's health card. Run by
GatewayTests (BrowserTests):
    python3 analytics_pages.py BASE_URL ACCOUNT_ID USER PASSWORD
Exits non-zero, saying why, when anything is not as expected.
"""
import sys
import urllib.request

from selenium.webdriver.common.by import By

from complaint_pages import shot
from order_pages import browser, sign_in
from web_pages import wait_until


def main(base, account_id, user, password):
    driver = browser()
    try:
        driver.set_window_size(1280, 1000)
        sign_in(driver, base, user, password)
        driver.get(base + "/nps?region=华东")
        wait_until(driver, lambda d: d.find_elements(By.ID, "nps-value"), lambda d: "no NPS page: " + d.page_source[:300])
        feedback_nps = float(driver.find_element(By.ID, "nps-value").text.replace("+", ""))
        responses = driver.find_element(By.ID, "nps-responses").text

        driver.get(base + "/analytics")
        wait_until(driver, lambda d: d.find_elements(By.ID, "kpi-nps"), lambda d: "no dashboard: " + d.page_source[:300])
        overall = float(driver.find_element(By.ID, "kpi-nps").get_attribute("data-value"))
        region = driver.find_element(By.CSS_SELECTOR, "#filters input[name=region]")
        region.send_keys("华东")
        driver.find_element(By.CSS_SELECTOR, "#filters button").click()
        wait_until(driver, lambda d: "region=" in d.current_url and d.find_elements(By.ID, "kpi-nps"), lambda d: "the filter did not apply: " + d.current_url)
        card = driver.find_element(By.ID, "kpi-nps")
        east = float(card.get_attribute("data-value"))
        assert round(east) == round(feedback_nps), f"dashboard 华东 NPS {east} vs feedback's {feedback_nps}"
        assert east != overall, f"the filter changed nothing: {east} = {overall}"
        assert f"答卷数 {responses}" in card.text, card.text
        for chart in ("chart-nps_trend", "chart-nps_by_region", "chart-funnel"):
            assert driver.find_elements(By.ID, chart), chart + " missing"
        # Both axes of every chart say what they measure.
        for figure in driver.find_elements(By.CSS_SELECTOR, "figure.chart"):
            x = figure.find_elements(By.CSS_SELECTOR, "text.axis-x")
            y = figure.find_elements(By.CSS_SELECTOR, "text.axis-y")
            assert x and y and x[0].text and y[0].text, figure.get_attribute("id") + ": an axis without its title"
        assert driver.find_element(By.CSS_SELECTOR, "#chart-nps_by_region text.axis-x").text == "区域"
        shot(driver, "analytics-dashboard", (1280, 2200))

        driver.find_element(By.LINK_TEXT, "风险客户").click()
        wait_until(driver, lambda d: d.find_elements(By.ID, "risk-total"), lambda d: "no risk list: " + d.page_source[:300])
        driver.get(base + "/analytics/report")
        wait_until(driver, lambda d: d.find_elements(By.ID, "report-lines"), lambda d: "no report: " + d.page_source[:300])
        assert driver.find_elements(By.ID, "line-nps"), "the report has no NPS line"
        assert "report.csv" in driver.find_element(By.ID, "csv").get_attribute("href")
        # The PDF: the same report printed by headless Chromium on the server.
        cookie = driver.get_cookie("forge_session")["value"]
        request = urllib.request.Request(driver.find_element(By.ID, "pdf").get_attribute("href"), headers={"Cookie": "forge_session=" + cookie})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
            assert response.headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF"), response.headers["Content-Type"]
        shot(driver, "analytics-report", (1280, 2000))

        driver.get(base + "/accounts/" + account_id)
        wait_until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#section-analytics .health-score"),
                   lambda d: "no health card: " + d.find_element(By.ID, "section-analytics").text)
        health = driver.find_element(By.ID, "section-analytics").text
        assert "流失风险" in health and "/ 100" in health, health
        print("analytics pages ok")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:5])
