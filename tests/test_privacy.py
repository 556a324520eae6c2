import math

import pandas as pd

from branchbook import privacy


def test_mask_name():
    assert privacy.mask_name("张三丰") == "张**"
    assert privacy.mask_name("李四") == "李*"
    assert privacy.mask_name("王") == "王*"
    assert privacy.mask_name("欧阳娜娜") == "欧***"
    assert privacy.mask_name(None) == ""


def test_a_company_keeps_a_short_prefix_and_its_legal_form():
    assert privacy.mask_name("上海星河国际贸易有限公司") == "上海星***有限公司"
    assert privacy.mask_name("上海华信贸易有限公司") == "上海华***有限公司"
    assert privacy.mask_name("北京恒达股份有限公司") == "北京***股份有限公司"
    assert privacy.mask_name("Acme Trading Ltd") == "Acm*** Ltd"
    assert privacy.mask_name("Acme Trading Co., Ltd.") == "Acm*** Co., Ltd."
    # a short name shows at most half of itself
    assert privacy.mask_name("恒达有限公司") == "恒***有限公司"
    # the stars never tell the length; a bare legal form is not a company name
    assert privacy.mask_name("上海星河国际贸易有限公司").count("*") == 3
    assert privacy.mask_name("公司") == "公*"


def test_two_companies_of_one_city_stay_apart_and_masking_again_changes_nothing():
    a, b = privacy.mask_name("上海华信贸易有限公司"), privacy.mask_name("上海金源贸易有限公司")
    assert a != b
    for name in ("上海华信贸易有限公司", "张三丰", "Acme Trading Ltd", "李四"):
        once = privacy.mask_name(name)
        assert privacy.mask_name(once) == once


def test_mask_tail_keeps_last_four():
    assert privacy.mask_tail("110101199003071234") == "*" * 14 + "1234"
    assert privacy.mask_tail("13812345678") == "*******5678"
    assert privacy.mask_tail("123") == "***"


def test_mask_frame_masks_personal_columns_without_mutating():
    df = pd.DataFrame({"name": ["张三丰"], "phone": ["13812345678"], "aum": [1.0]})
    out = privacy.mask_frame(df)
    assert out.loc[0, "name"] == "张**"
    assert out.loc[0, "phone"] == "*******5678"
    assert df.loc[0, "name"] == "张三丰"


def test_suppression_is_complementary():
    out = privacy.suppress_counts(pd.Series([120, 3, 40, 9]), 5)
    # 3 < 5 is suppressed; it alone could be recovered from the total, so the next
    # smallest non-zero cell (9) is suppressed too.
    assert math.isnan(out[1]) and math.isnan(out[3])
    assert out[0] == 120 and out[2] == 40


def test_suppression_keeps_zero_and_two_small_cells():
    out = privacy.suppress_counts(pd.Series([0, 2, 4, 50]), 5)
    assert out[0] == 0 and out[3] == 50
    assert math.isnan(out[1]) and math.isnan(out[2])


def test_an_aggregated_list_counts_customers_and_hides_the_small_groups():
    # branch 0101: 6 rows of 5 customers (one customer twice); 0102: 4 rows of 2
    # customers; 0201: 7 rows of 7 customers
    f = pd.DataFrame(
        {
            "branch": ["0101"] * 6 + ["0102"] * 4 + ["0201"] * 7,
            "customer_id": ["a", "b", "c", "d", "e", "e", "f", "f", "f", "g"]
            + [f"h{i}" for i in range(7)],
            "aum": [1.0] * 6 + [10.0] * 4 + [2.0] * 7,
        }
    )
    out = privacy.aggregate(f, ["branch"], money=["aum"], limit=5).set_index("branch")
    assert out["rows"].to_dict() == {"0101": 6, "0102": 4, "0201": 7}
    assert out["customers"].to_dict() == {"0101": 5, "0102": 2, "0201": 7}
    assert out["aum"].to_dict() == {"0101": 6.0, "0102": 40.0, "0201": 14.0}
    # 0102 has 2 customers (< 5); alone it could be read off the total, so the next
    # smallest group (0101, 5 customers) is hidden with it; 0201 stays
    assert out["hidden"].to_dict() == {"0101": True, "0102": True, "0201": False}
    assert list(f.columns) == ["branch", "customer_id", "aum"]  # the input is not changed
    # four rows of one customer are one customer: hidden however many rows
    one = pd.DataFrame(
        {"branch": ["x"] * 4 + ["y"] * 3, "customer_id": ["z"] * 4 + ["u", "v", "w"]}
    )
    got = privacy.aggregate(one, ["branch"], limit=3).set_index("branch")
    assert got.loc["x", "rows"] == 4 and got.loc["x", "customers"] == 1
    assert got["hidden"].to_dict() == {"x": True, "y": True}  # y: the complement
    # without customer ids each row counts as one customer
    rows = privacy.aggregate(one.drop(columns="customer_id"), ["branch"], limit=4)
    assert rows["customers"].tolist() == [4, 3] and rows["hidden"].tolist() == [True, True]
