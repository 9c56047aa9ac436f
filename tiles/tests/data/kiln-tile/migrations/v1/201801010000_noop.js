exports.migrate = function (input) { return input; };
