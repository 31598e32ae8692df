from app.matching.grouping import AskedQuestion, group_questions


def test_similar_phrasings_are_grouped_with_counts_and_nearest() -> None:
    questions = [
        AskedQuestion("làm sổ hồng ở đâu", (("1.013978", 60.0),)),
        AskedQuestion("giá vàng hôm nay", ()),
        AskedQuestion("lam so hong o dau a", (("1.013978", 55.0), ("1.012796", 40.0))),
        AskedQuestion("Làm sổ hồng ở đâu???", (("1.012796", 70.0),)),
        AskedQuestion("😀😀", ()),
    ]
    groups = group_questions(questions)
    assert [g.count for g in groups] == [3, 1]
    top = groups[0]
    assert top.representative == "làm sổ hồng ở đâu"
    assert top.top_nearest() == ["1.013978", "1.012796"]
    assert groups[1].texts == ["giá vàng hôm nay"]


def test_unrelated_questions_stay_apart() -> None:
    groups = group_questions(
        [AskedQuestion("giờ mở cửa thư viện"), AskedQuestion("đăng ký xe máy ở đâu")]
    )
    assert len(groups) == 2
