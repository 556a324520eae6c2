"""What open_report adds to a page besides the data: the notice of a head office scope."""

from bs4 import BeautifulSoup

from branchbook import page as page_mod
from branchbook.context import show_scope_preview


def notice(locale: str, scope: str) -> list[str]:
    p = page_mod.Page(
        report="segmentation", locale=locale, bank_name="Demo Bank",
        branch={"branch_id": scope, "name": "East", "region": "East"},
        period="2026-10", data_as_of="2026-10-31", live=False,
    )  # fmt: skip
    show_scope_preview(p, scope)
    box = BeautifulSoup(p.html(), "html.parser").find("aside", class_="bb-notice")
    return [box.find("p").get_text(), *(li.get_text() for li in box.find_all("li"))]


def test_a_region_report_says_what_it_pools_and_how_to_read_it():
    en = notice("en", "region:East")
    assert en[0].startswith(
        "Preview for head office: this report pools every branch of the East region."
    )
    assert en[1].startswith("A card's last period and start of the year are this level's own")
    assert '"n/a" only where there is nothing to measure' in en[1]
    assert "cover every branch of the East region" in en[2]
    zh = notice("zh-CN", "region:East")
    assert zh[0].startswith("总行预览：本报告汇总了华东区域的全部网点数据。")
    assert zh[1].startswith("指标卡的上期和年初数值均为本层级自身数值")
    assert len(zh) == len(en) == 3


def test_a_bank_report_names_the_whole_bank():
    assert "every branch of the whole bank" in notice("en", "bank")[0]
    assert "汇总了全行的全部网点数据" in notice("zh-CN", "bank")[0]
