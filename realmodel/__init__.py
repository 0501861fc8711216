"""paradec.realmodel"""

__all__: list[str] = []
