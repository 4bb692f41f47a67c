#!/usr/bin/env bash
# A few minutes of a sales team's day against a running stack, in seconds: sign in through the
# JSON API and the web form, list and search accounts, open 20 accounts with their 360° view and
# contacts (API and web pages), create an account and edit it. Used by Scripts/startup-order.sh
# (so the code serving requests is profiled and laid out with the rest) and by
# Benchmarks/idle-rss.sh --traffic (idle memory after real use, not only after start-up).
#
#   Scripts/typical-traffic.sh [GATEWAY_URL]     (default http://127.0.0.1:8080; demo data loaded)
set -euo pipefail
url=${1:-http://127.0.0.1:8080}
password=forge-demo-2026
# The 360° view's longest deadline: under valgrind (Scripts/startup-order.sh) the default 300 ms
# would time every section out, and the profile would miss the code that renders them.
deadline=5000
cookies=$(mktemp)
trap 'rm -f "$cookies"' EXIT

json() { python3 -c "import json, sys; print(eval(sys.argv[1], {}, {'d': json.load(sys.stdin)}))" "$1"; }

token=$(curl -sf -X POST "$url/api/v1/auth/sign-in" -H 'content-type: application/json' \
    -d "{\"username\":\"mgr-east\",\"password\":\"$password\"}" | json 'd["token"]')
auth=(-H "authorization: Bearer $token")
ids=$(curl -sf "${auth[@]}" "$url/api/v1/accounts?page_size=20" | json '" ".join(a["id"] for a in d["accounts"])')
curl -sf -o /dev/null "${auth[@]}" "$url/api/v1/accounts/search?q=%E4%B8%8A%E6%B5%B7"
for id in $ids; do
    curl -sf -o /dev/null "${auth[@]}" "$url/api/v1/accounts/$id"
    curl -sf -o /dev/null "${auth[@]}" "$url/api/v1/accounts/$id/360?deadline_ms=$deadline"
    curl -sf -o /dev/null "${auth[@]}" "$url/api/v1/accounts/$id/contacts"
done

# A new account, then an edit of it with the version read back.
created=$(curl -sf "${auth[@]}" -H 'content-type: application/json' -X POST "$url/api/v1/accounts" \
    -d "{\"account\":{\"name\":\"流量测试机械 $RANDOM$RANDOM 有限公司\",\"region\":\"east\",\"industry\":\"machinery\"}}")
id=$(echo "$created" | json 'd["account"]["id"]')
version=$(echo "$created" | json 'd["account"]["version"]')
curl -sf -o /dev/null "${auth[@]}" -H 'content-type: application/json' -X PUT "$url/api/v1/accounts/$id" \
    -d "{\"account\":{\"id\":\"$id\",\"name\":\"流量测试机械 $RANDOM 有限公司\",\"region\":\"east\",\"industry\":\"machinery\",\"version\":\"$version\"}}"

# The web pages, signed in by the form.
curl -sf -o /dev/null -c "$cookies" -X POST "$url/login" --data-urlencode "username=rep-01" --data-urlencode "password=$password"
curl -sf -o /dev/null -b "$cookies" "$url/accounts"
curl -sf -o /dev/null -b "$cookies" "$url/accounts?q=%E4%B8%8A%E6%B5%B7"
for id in $(echo "$ids" | cut -d' ' -f1-5); do
    curl -sf -o /dev/null -b "$cookies" "$url/accounts/$id?deadline_ms=$deadline"
    curl -sf -o /dev/null -b "$cookies" "$url/accounts/$id/contacts"
done
