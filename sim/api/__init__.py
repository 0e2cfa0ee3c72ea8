"""The simulated API's object model: objects, selectors, quantities, store and clients."""
