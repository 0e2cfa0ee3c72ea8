"""kube-controller-manager's controllers, one module (or package) per upstream controller."""
