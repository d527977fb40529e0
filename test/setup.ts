import 'aws-sdk-client-mock-jest';

// The machines here run Node 20; the SDK warns (once per process) that its 2027 releases will
// need Node 22. Lambda runs nodejs22.x, so in tests the warning is noise that buries real output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
