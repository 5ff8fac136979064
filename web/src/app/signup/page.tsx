import { Suspense } from "react";
import { AuthForm } from "@/components/AuthForm";
import { Loading } from "@/components/StatusMessage";

export default function SignupPage() {
  return (
    <Suspense fallback={<Loading />}>
      <AuthForm mode="signup" />
    </Suspense>
  );
}
