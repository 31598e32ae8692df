"""What the benchmarks' residents ask and what their ward announces (shared by the scripts)."""

ANNOUNCEMENT = (
    "Thông báo: từ 8h00 đến 11h00 sáng thứ Ba, phường cắt nước để sửa đường ống trên đường "
    "Nguyễn Trãi. Bà con chủ động dự trữ nước. Xin cảm ơn."
)
QUESTIONS = (
    "thủ tục đăng ký khai sinh cần giấy tờ gì",
    "làm căn cước cho con ở đâu",
    "phường làm việc mấy giờ",
    "đăng ký kết hôn cần gì ạ",
    "số điện thoại công an phường",
    "chứng thực bản sao mất bao nhiêu tiền",
)
