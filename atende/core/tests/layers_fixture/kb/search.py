from atende.nowhere import thing  # an app the layer order does not know

__all__ = ["thing"]
