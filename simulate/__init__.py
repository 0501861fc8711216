"""paradec.simulate"""

__all__: list[str] = []
