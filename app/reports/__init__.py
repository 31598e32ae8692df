"""Residents' reports (phản ánh, kiến nghị): the pure dialogue in `dialogue`, the use case in
`service`."""
