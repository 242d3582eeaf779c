import { NotFoundPanel } from "@/components/failure";

export default function NotFound() {
  return (
    <main className="grid min-h-screen place-items-center bg-slate-50 p-8">
      <NotFoundPanel />
    </main>
  );
}
