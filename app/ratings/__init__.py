"""Rating the service (đánh giá mức độ hài lòng): asked once per visit or dossier, 1-5 by
buttons with an optional comment; `service` is the use case, `summary` the console's tables."""
